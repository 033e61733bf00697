import { FlowError } from './errors.ts';
import { normalizePassword, passwordMaximumLength, passwordMinimumLength } from '../security/passwords.ts';

/** Length is counted in code points after NFKC; nothing is ever truncated. */
export function assertAcceptablePassword(password: string): void {
  // NFKC can expand a string, never by this much: a huge input is refused before normalizing it.
  if (password.length > passwordMaximumLength * 18) {
    throw new FlowError('password_too_long', `Password must be at most ${passwordMaximumLength} characters`);
  }
  const length = [...normalizePassword(password)].length;
  if (length < passwordMinimumLength) {
    throw new FlowError(
      'password_too_short',
      `Password must be at least ${passwordMinimumLength} characters`,
    );
  }
  if (length > passwordMaximumLength) {
    throw new FlowError('password_too_long', `Password must be at most ${passwordMaximumLength} characters`);
  }
}
