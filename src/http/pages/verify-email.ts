import { escapeHtml } from '../../security/html-escape.ts';
import { renderMessagePage, renderPage } from './layout.ts';

/** GET shows this and changes nothing: link scanners open links, only the button's POST verifies. */
export function renderVerifyEmailPage(token: string, usable: boolean): string {
  if (!usable) {
    return renderMessagePage(
      'Link not valid',
      'This verification link is invalid, expired or already used. Logging in with your password sends a new one; if you have no working password, reset it.',
    );
  }
  return renderPage(
    'Confirm your email address',
    `<p>Press the button to confirm this address for your account.</p>
<form method="post" action="/verify-email">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Confirm my email address</button>
</form>`,
  );
}

export function renderEmailVerifiedPage(): string {
  return renderMessagePage('Email verified', 'Your email address is confirmed. You can now log in.');
}
