import { passwordMaximumLength } from '../../security/password-policy.ts';
import { escapeHtml } from '../../security/html-escape.ts';
import { renderMessagePage, renderPage } from './layout.ts';

/** `minimumLength` is the deployment's PASSWORD_MIN_LENGTH: the browser's hint and check follow it. */
export function renderResetPasswordPage(token: string, usable: boolean, minimumLength: number): string {
  if (!usable) {
    return renderPage(
      'Link not valid',
      `<p>This reset link is invalid, expired or already used.</p>${requestForm()}`,
    );
  }
  return renderPage(
    'Choose a new password',
    `<form method="post" action="/reset-password">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required
 minlength="${minimumLength}" maxlength="${passwordMaximumLength}">
<p class="hint">At least ${minimumLength} characters; a long phrase is easy to remember. Common passwords and your email address are refused. Every device signed in to your account will be signed out.</p>
<button type="submit">Set new password</button>
</form>`,
  );
}

/** Where a "your password was changed" email points: ask for a fresh link. */
export function renderRequestPasswordResetPage(): string {
  return renderPage('Reset your password', requestForm());
}

function requestForm(): string {
  return `<form method="post" action="/request-password-reset">
<label for="email">Your email address</label>
<input id="email" name="email" type="email" autocomplete="email" required>
<button type="submit">Email me a reset link</button>
</form>`;
}

export function renderPasswordResetDonePage(): string {
  return renderMessagePage('Password changed', 'Your password has been reset. You can now log in with it.');
}

export function renderResetRequestedPage(): string {
  return renderMessagePage('Check your email', 'If the address has an account, a reset link is on its way.');
}

export function renderErrorPage(message: string): string {
  return renderMessagePage('Something went wrong', message);
}
