import { escapeHtml } from '../../security/html-escape.ts';
import { renderMessagePage, renderPage } from './layout.ts';

/** GET shows this and changes nothing: link scanners open links, only the button's POST confirms. */
export function renderConfirmEmailChangePage(token: string, usable: boolean): string {
  if (!usable) {
    return renderMessagePage(
      'Link not valid',
      'This link is invalid, expired or already used. Sign in with your current address and ask for the change again.',
    );
  }
  return renderPage(
    'Confirm your new email address',
    `<p>Press the button to move your account to this address. Every device signed in to it will be signed out.</p>
<form method="post" action="/confirm-email-change">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Confirm the new address</button>
</form>`,
  );
}

export function renderEmailChangedPage(): string {
  return renderMessagePage(
    'Email address changed',
    'Your account now uses this address. Sign in with it from now on.',
  );
}

/** GET shows this and changes nothing; the POST voids a pending change or takes the account back. */
export function renderCancelEmailChangePage(token: string, usable: boolean): string {
  if (!usable) {
    return renderMessagePage(
      'Link not valid',
      'This link is invalid, expired or already used. If you cannot sign in, reset your password.',
    );
  }
  return renderPage(
    'Stop the email address change',
    `<p>Press the button to stop the change. If the change was already confirmed, your old address comes back, every device is signed out, and you get an email to set a new password.</p>
<form method="post" action="/cancel-email-change">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Stop the change</button>
</form>`,
  );
}

export function renderEmailChangeVoidedPage(): string {
  return renderMessagePage('Change stopped', 'The email address of your account stays as it was.');
}

export function renderAccountRestoredPage(): string {
  return renderMessagePage(
    'Account restored',
    'Your old address is back and everyone was signed out. We sent it a link to set a new password.',
  );
}
