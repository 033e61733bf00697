import { escapeHtml } from '../../security/html-escape.ts';
import { emailField, renderForm } from './forms.ts';
import { renderMessagePage, renderPage, type Site } from './layout.ts';
import { message } from './messages.ts';

/** The address form that asks for a reset link (also where an expired reset link and the emails point). */
export function renderForgotPasswordPage(
  site: Site,
  state: {
    readonly email?: string;
    readonly error?: string;
    readonly formError?: string;
    readonly intro?: string;
  } = {},
): string {
  return renderPage(site, {
    title: message('forgot.title'),
    body: `<p>${escapeHtml(state.intro ?? message('forgot.intro'))}</p>
${renderForgotPasswordForm(state)}
<div class="links"><p><a href="/sign-in">${escapeHtml(message('forgot.back'))}</a></p></div>`,
  });
}

export function renderForgotPasswordForm(state: {
  readonly email?: string;
  readonly error?: string;
  readonly formError?: string;
}): string {
  return renderForm({
    action: '/forgot-password',
    focusFirstError: true,
    ...(state.formError !== undefined && { formError: state.formError, focus: 'email' }),
    fields: [emailField({ value: state.email, error: state.error })],
    submit: message('forgot.submit'),
  });
}

/** The same page for every address. */
export function renderResetRequestedPage(site: Site, email: string): string {
  return renderMessagePage(site, message('forgot.sentTitle'), message('forgot.sent', { email }), {
    href: '/sign-in',
    label: message('forgot.back'),
  });
}
