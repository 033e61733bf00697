import { localeField } from '../security/locale.ts';
import { budgetKey, mayEmailRecipient, spendAttempt } from './attempt-budgets.ts';
import { accountState } from './account-state.ts';
import { completeAuditEvent, recordAuditEvent } from './audit.ts';
import { passwordHasherOf, type AccountContext } from './context.ts';
import { FlowError } from './errors.ts';
import type { TokenEmail, TransactionStores } from './ports.ts';
import type { User } from './model.ts';
import { assertAcceptablePassword } from './password-rules.ts';
import { endUserSessions } from './sessions.ts';
import { prepareTokenEmail } from './token-emails.ts';
import { hashToken, isWellFormedToken } from '../security/tokens.ts';

/**
 * A fresh reset token and the email carrying its link (a reset request's, or the answer to a registration of
 * a taken address); nothing is stored yet. Issue it with `replacePrevious`: older reset links stop working.
 */
export function prepareResetEmail(
  context: AccountContext,
  recipient: Pick<User, 'email' | 'locale'>,
  template: 'password_reset' | 'already_registered',
  returnTo?: string,
): TokenEmail {
  const to = recipient.email;
  const locale = localeField(recipient.locale);
  return prepareTokenEmail(context.clock, 'password_reset', (token, expiresAt) => {
    const url = context.links.resetPasswordUrl(token, returnTo);
    return template === 'password_reset'
      ? { template, to, ...locale, params: { url, expiresAt } }
      : { template, to, ...locale, params: { resetUrl: url, expiresAt } };
  });
}

/**
 * Always the same answer; a known address gets a reset link by email, committed before the answer so a crash
 * cannot lose it. The HTTP layer answers no sooner than a fixed time, so the extra work is not visible.
 */
export async function requestPasswordReset(context: AccountContext, emailKey: string): Promise<void> {
  if (!(await mayEmailRecipient(context, emailKey))) return;
  const user = await context.users.findUserByEmailKey(emailKey);
  if (user === null || user.deletedAt !== null || accountState(user) === 'disabled') return;
  await context.transactor.issueTokenWithEmail(user.id, prepareResetEmail(context, user, 'password_reset'), {
    replacePrevious: true,
    audit: completeAuditEvent(
      { event: 'password_reset_requested', outcome: 'success', userId: user.id },
      context.clock.now(),
    ),
  });
}

/** Whether a reset link is still usable, for the form page; changes nothing. */
export async function checkPasswordResetToken(context: AccountContext, token: string): Promise<boolean> {
  if (!isWellFormedToken(token)) return false;
  return (
    (await context.tokens.findValidToken(hashToken(token), 'password_reset', context.clock.now())) !== null
  );
}

/**
 * Sets the new password, proves the mailbox (the address becomes verified), ends every session of the user
 * and tells the owner by email. A pre-registration squatter's password is gone after this. Returns the
 * account's id.
 */
export async function resetPassword(
  context: AccountContext,
  token: string,
  newPassword: string,
): Promise<string> {
  const invalid = new FlowError('invalid_token', 'Invalid or expired reset token');
  if (!isWellFormedToken(token)) throw invalid;
  // Length and the common-password list first; the address rule needs the account the token belongs to.
  assertAcceptablePassword(context.passwordPolicy, newPassword, '');
  const tokenHash = hashToken(token);
  const attempt = await spendAttempt(context.budgets.resetAttemptsPerToken, budgetKey(`reset:${tokenHash}`));
  if (!attempt.allowed) {
    throw new FlowError('rate_limited', 'Too many attempts with this link, try again later', {
      retryAfterSeconds: attempt.retryAfterSeconds,
    });
  }
  // A cheap look first, so a bad token never costs a password hash.
  const pending = await context.tokens.findValidToken(tokenHash, 'password_reset', context.clock.now());
  if (pending === null) throw invalid;
  const owner = await context.users.findUserById(pending.userId);
  if (owner === null) throw invalid;
  assertAcceptablePassword(context.passwordPolicy, newPassword, owner.emailKey);
  const passwordHash = await passwordHasherOf(context).hashPassword(newPassword);
  // Sessions are ended before the password changes too: if the session store is down, the reset fails as a
  // whole (503) instead of changing the password while the old sessions live on.
  await endUserSessions(context, pending.userId);
  const userId = await context.transactor.runInTransaction(async (stores: TransactionStores) => {
    const now = context.clock.now();
    const consumed = await stores.tokens.consumeToken(tokenHash, 'password_reset', now);
    if (consumed === null) throw invalid;
    const user = await stores.users.findUserById(consumed.userId);
    if (user === null) throw invalid;
    await stores.users.setUserPasswordHash(user.id, passwordHash, { markVerified: true });
    await stores.tokens.invalidateUserTokens(user.id, 'password_reset', now);
    await stores.tokens.invalidateUserTokens(user.id, 'email_verification', now);
    await stores.outbox.enqueueEmail({
      template: 'password_changed',
      to: user.email,
      ...localeField(user.locale),
      params: { resetUrl: context.links.requestPasswordResetUrl() },
    });
    await recordAuditEvent(
      stores.audit,
      { event: 'password_reset', outcome: 'success', userId: user.id },
      now,
    );
    return user.id;
  });
  // And after: a login with the old password between the two is ended as well.
  await endUserSessions(context, userId);
  return userId;
}
