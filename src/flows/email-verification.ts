import { mayEmailRecipient } from './attempt-budgets.ts';
import type { AccountContext } from './context.ts';
import { emailVerificationTokenLifetimeSeconds, secondsFrom } from './context.ts';
import { FlowError } from './errors.ts';
import type { TransactionStores } from './ports.ts';
import type { User } from './model.ts';
import { generateToken, hashToken, isWellFormedToken } from '../security/tokens.ts';

/** Inside the caller's transaction: a fresh verification token and the email that carries it. */
export async function createEmailVerificationRequest(
  context: AccountContext,
  stores: TransactionStores,
  user: Pick<User, 'id' | 'email'>,
): Promise<void> {
  const token = generateToken();
  const now = context.clock.now();
  await stores.tokens.createToken({
    tokenHash: hashToken(token),
    purpose: 'email_verification',
    userId: user.id,
    expiresAt: secondsFrom(now, emailVerificationTokenLifetimeSeconds),
  });
  await stores.outbox.enqueueEmail({
    template: 'verify_email',
    to: user.email,
    params: { url: context.links.verifyEmailUrl(token) },
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
  });
}

/**
 * Always the same answer; an unverified account gets a fresh link (committed before the answer), anything else
 * gets nothing. The HTTP layer answers no sooner than a fixed time, so the extra work is not visible.
 */
export async function resendEmailVerification(context: AccountContext, emailKey: string): Promise<void> {
  if (!(await mayEmailRecipient(context, emailKey))) return;
  const user = await context.users.findUserByEmailKey(emailKey);
  if (user === null || user.isVerified || user.passwordHash === null) return;
  await context.transactor.runInTransaction((stores) =>
    createEmailVerificationRequest(context, stores, user),
  );
}
