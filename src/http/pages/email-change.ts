import { renderMessagePage, type Site } from './layout.ts';
import { renderTokenButtonPage } from './link-forms.ts';
import { message } from './messages.ts';

/** GET shows this and changes nothing: link scanners open links, only the button's POST confirms. */
export function renderConfirmEmailChangePage(site: Site, token: string, usable: boolean): string {
  if (!usable)
    return renderMessagePage(site, message('link.invalidTitle'), message('emailChange.confirmInvalid'), {
      href: '/sign-in',
      label: message('signUp.signIn'),
    });
  return renderTokenButtonPage(site, {
    title: message('emailChange.confirmTitle'),
    intro: message('emailChange.confirmIntro'),
    action: '/confirm-email-change',
    token,
    submit: message('emailChange.confirmSubmit'),
  });
}

export function renderEmailChangedPage(site: Site): string {
  return renderMessagePage(site, message('emailChange.changedTitle'), message('emailChange.changed'), {
    href: '/sign-in',
    label: message('signUp.signIn'),
  });
}

/** GET shows this and changes nothing; the POST voids a pending change or takes the account back. */
export function renderCancelEmailChangePage(site: Site, token: string, usable: boolean): string {
  if (!usable)
    return renderMessagePage(site, message('link.invalidTitle'), message('emailChange.cancelInvalid'), {
      href: '/forgot-password',
      label: message('forgot.title'),
    });
  return renderTokenButtonPage(site, {
    title: message('emailChange.cancelTitle'),
    intro: message('emailChange.cancelIntro'),
    action: '/cancel-email-change',
    token,
    submit: message('emailChange.cancelSubmit'),
  });
}

export function renderEmailChangeVoidedPage(site: Site): string {
  return renderMessagePage(site, message('emailChange.voidedTitle'), message('emailChange.voided'));
}

export function renderAccountRestoredPage(site: Site): string {
  return renderMessagePage(site, message('emailChange.restoredTitle'), message('emailChange.restored'));
}
