import { localeField } from '../security/locale.ts';
import { mayEmailRecipient } from './attempt-budgets.ts';
import { addressState } from './account-state.ts';
import { recordAuditEvent } from './audit.ts';
import type { AccountContext } from './context.ts';
import { FlowError } from './errors.ts';
import type { TokenEmail } from './ports.ts';
import type { User } from './model.ts';
import { prepareTokenEmail } from './token-emails.ts';
import { hashToken, isWellFormedToken } from '../security/tokens.ts';

/** A fresh verification token for `address` and the email carrying its link; nothing is stored yet. */
export function prepareVerificationEmail(
  context: AccountContext,
  recipient: Pick<User, 'email' | 'locale'>,
  returnTo?: string,
): TokenEmail {
  return prepareTokenEmail(context.clock, 'email_verification', (token, expiresAt) => ({
    template: 'verify_email',
    to: recipient.email,
    ...localeField(recipient.locale),
    params: { url: context.links.verifyEmailUrl(token, returnTo), expiresAt },
  }));
}

/** Sends `user` a fresh verification link; earlier links keep working until they expire. */
export async function sendVerificationEmail(
  context: AccountContext,
  user: Pick<User, 'id' | 'email' | 'locale'>,
  returnTo?: string,
): Promise<void> {
  await context.transactor.issueTokenWithEmail(user.id, prepareVerificationEmail(context, user, returnTo), {
    replacePrevious: false,
  });
}

/** Whether a link is still usable, for the confirmation page; changes nothing (mail scanners open links). */
export async function checkEmailVerificationToken(context: AccountContext, token: string): Promise<boolean> {
  if (!isWellFormedToken(token)) return false;
  return (
    (await context.tokens.findValidToken(hashToken(token), 'email_verification', context.clock.now())) !==
    null
  );
}

/** Consumes the token and marks the address verified. */
export async function verifyEmailAddress(context: AccountContext, token: string): Promise<void> {
  const invalid = new FlowError('invalid_token', 'Invalid or expired verification token');
  if (!isWellFormedToken(token)) throw invalid;
  await context.transactor.runInTransaction(async (stores) => {
    const consumed = await stores.tokens.consumeToken(
      hashToken(token),
      'email_verification',
      context.clock.now(),
    );
    if (consumed === null) throw invalid;
    await stores.users.markUserVerified(consumed.userId);
    // The mailbox is proven: any other pending link for it has nothing left to do.
    await stores.tokens.invalidateUserTokens(consumed.userId, 'email_verification', context.clock.now());
    await recordAuditEvent(
      stores.audit,
      { event: 'email_verification', outcome: 'success', userId: consumed.userId },
      context.clock.now(),
    );
  });
}

/**
 * Always the same answer; an unverified account gets a fresh link (committed before the answer), anything else
 * gets nothing: a contested one has no password a link could confirm. The HTTP layer answers no sooner than a
 * fixed time, so the extra work is not visible.
 */
export async function resendEmailVerification(context: AccountContext, emailKey: string): Promise<void> {
  if (!(await mayEmailRecipient(context, emailKey))) return;
  const user = await context.users.findUserByEmailKey(emailKey);
  // By the address alone: a disabled account that is still unverified gets a link as well.
  if (user === null || user.deletedAt !== null || addressState(user) !== 'unverified') return;
  await sendVerificationEmail(context, user);
}
