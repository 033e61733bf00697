import { renderMessagePage, type Site } from './layout.ts';
import { renderTokenButtonPage } from './link-forms.ts';
import { message } from './messages.ts';

/** GET shows this and changes nothing: link scanners open links, only the button's POST verifies. */
export function renderVerifyEmailPage(
  site: Site,
  token: string,
  usable: boolean,
  returnTo: string | null = null,
): string {
  // Signing in sends a fresh link: the way on is one click away.
  if (!usable)
    return renderMessagePage(site, message('link.invalidTitle'), message('verify.invalid'), {
      href: '/sign-in',
      label: message('signUp.signIn'),
    });
  return renderTokenButtonPage(site, {
    title: message('verify.title'),
    intro: message('verify.intro'),
    action: '/verify-email',
    token,
    submit: message('verify.submit'),
    returnTo,
  });
}

/** Onwards to the app when a listed return address came along, to the sign-in page otherwise. */
export function renderEmailVerifiedPage(site: Site, returnTo: string | null = null): string {
  return renderMessagePage(site, message('verify.doneTitle'), message('verify.done'), {
    href: returnTo ?? '/sign-in',
    label: returnTo === null ? message('signUp.signIn') : message('link.continue'),
  });
}
