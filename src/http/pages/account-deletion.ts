import { escapeHtml } from '../../security/html-escape.ts';
import { renderMessagePage, renderPage } from './layout.ts';

/** GET shows this and changes nothing: link scanners open links, only the button's POST restores. */
export function renderRestoreAccountPage(token: string, usable: boolean): string {
  if (!usable) {
    return renderMessagePage(
      'Link not valid',
      'This restore link is invalid, expired or already used. Once the grace period is over, the address can be registered again.',
    );
  }
  return renderPage(
    'Restore your account',
    `<p>Press the button to bring your account back as it was, with its password.</p>
<form method="post" action="/restore-account">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Restore my account</button>
</form>`,
  );
}

export function renderAccountRestoredAfterDeletionPage(): string {
  return renderMessagePage('Account restored', 'Your account is back. You can log in with your password.');
}

export function renderAccountDeletedPage(): string {
  return renderMessagePage(
    'Account deleted',
    'Your account is deleted and you are signed out everywhere. We sent a restore link to its address.',
  );
}
