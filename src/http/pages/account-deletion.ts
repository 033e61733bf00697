import { renderMessagePage, type Site } from './layout.ts';
import { renderTokenButtonPage } from './link-forms.ts';
import { message } from './messages.ts';

/** GET shows this and changes nothing: link scanners open links, only the button's POST restores. */
export function renderRestoreAccountPage(site: Site, token: string, usable: boolean): string {
  if (!usable) return renderMessagePage(site, message('link.invalidTitle'), message('restore.invalid'));
  return renderTokenButtonPage(site, {
    title: message('restore.title'),
    intro: message('restore.intro'),
    action: '/restore-account',
    token,
    submit: message('restore.submit'),
  });
}

export function renderAccountRestoredAfterDeletionPage(site: Site): string {
  return renderMessagePage(site, message('restore.doneTitle'), message('restore.done'), {
    href: '/sign-in',
    label: message('signUp.signIn'),
  });
}

export function renderAccountDeletedPage(site: Site): string {
  return renderMessagePage(site, message('deleted.title'), message('deleted.body'));
}
