import { budgetKey, refundAttempt, spendAttempt } from './attempt-budgets.ts';
import { passwordHasherOf, type AccountContext } from './context.ts';
import { FlowError } from './errors.ts';
import { loginBudgetKey } from './login.ts';
import type { User } from './model.ts';

/** The account behind a session, unless it is gone or deleted (its sessions end then, but one may be racing). */
export async function findLiveUser(context: AccountContext, userId: string): Promise<User> {
  const user = await context.users.findUserById(userId);
  if (user === null || user.deletedAt !== null) throw new FlowError('not_authenticated');
  return user;
}

/**
 * Checks the current password (a stolen session alone cannot move the account), on the account's login budget:
 * a wrong password spends a point, the right one gives it back, as a login does.
 */
export async function checkCurrentPassword(
  context: AccountContext,
  user: User,
  currentPassword: string,
): Promise<void> {
  const accountKey = budgetKey(loginBudgetKey(user.emailKey));
  const attempt = await spendAttempt(context.budgets.loginAttemptsPerAccount, accountKey);
  if (!attempt.allowed) {
    throw new FlowError('rate_limited', 'Too many failed attempts for this account, try again later', {
      retryAfterSeconds: attempt.retryAfterSeconds,
    });
  }
  const passwords = passwordHasherOf(context);
  const valid =
    user.passwordHash === null
      ? (await passwords.verifyAgainstDummyHash(currentPassword), false)
      : (await passwords.verifyPassword(user.passwordHash, currentPassword)).valid;
  if (!valid) throw new FlowError('invalid_current_password');
  await refundAttempt(context.budgets.loginAttemptsPerAccount, accountKey);
}
