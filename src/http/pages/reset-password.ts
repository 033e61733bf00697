import { escapeHtml } from '../../security/html-escape.ts';
import { renderForgotPasswordForm, renderForgotPasswordPage } from './forgot-password.ts';
import { newPasswordField, renderForm } from './forms.ts';
import { renderMessagePage, renderPage, type Site } from './layout.ts';
import { message } from './messages.ts';

/** `minimumLength` is the deployment's PASSWORD_MIN_LENGTH: the hint follows it. */
export function renderResetPasswordPage(
  site: Site,
  token: string,
  usable: boolean,
  minimumLength: number,
  returnTo: string | null = null,
  error?: string,
): string {
  if (!usable) {
    return renderPage(site, {
      title: message('link.invalidTitle'),
      body: `<p>${escapeHtml(message('reset.invalid'))}</p>\n${renderForgotPasswordForm({})}`,
    });
  }
  return renderPage(site, {
    title: message('reset.title'),
    body: `<p class="hint">${escapeHtml(message('reset.note'))}</p>
${renderForm({
  action: '/reset-password',
  hidden: { token, return_to: returnTo ?? undefined },
  focusFirstError: true,
  fields: [newPasswordField({ minimumLength, error })],
  submit: message('reset.submit'),
})}`,
  });
}

/** Where a "your password was changed" email points: ask for a fresh link. */
export function renderRequestPasswordResetPage(site: Site): string {
  return renderForgotPasswordPage(site);
}

export function renderPasswordResetDonePage(site: Site, returnTo: string | null = null): string {
  return renderMessagePage(site, message('reset.doneTitle'), message('reset.done'), {
    href: returnTo ?? '/sign-in',
    label: returnTo === null ? message('signUp.signIn') : message('link.continue'),
  });
}

export function renderResetRequestedPage(site: Site): string {
  return renderMessagePage(site, message('forgot.sentTitle'), message('forgot.sentAny'));
}

export function renderErrorPage(site: Site, text: string): string {
  return renderMessagePage(site, message('error.title'), text);
}
