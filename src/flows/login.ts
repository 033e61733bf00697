import { accountState } from './account-state.ts';
import { budgetKey, mayEmailRecipient, refundAttempt, spendAttempt } from './attempt-budgets.ts';
import { passwordHasherOf, secondsFrom, type AccountContext } from './context.ts';
import { sendVerificationEmail } from './email-verification.ts';
import { FlowError } from './errors.ts';
import type { Session, User } from './model.ts';
import type { EmailAddress } from '../security/email-address.ts';
import { generateToken, hashToken } from '../security/tokens.ts';

export interface LoginResult {
  /** The session token: sent once, as bearer token and cookie; only its hash is stored. */
  readonly token: string;
  readonly expiresInSeconds: number;
  readonly user: User;
}

/** Unknown address and wrong password fail identically, after the same amount of hashing work. */
export async function logIn(
  context: AccountContext,
  email: EmailAddress,
  password: string,
): Promise<LoginResult> {
  // Built only on failure: an Error captures a stack trace, which a successful login has no use for.
  const invalid = (): FlowError => new FlowError('invalid_credentials', 'Incorrect email or password');
  // Spent before anything is looked up, for addresses with and without an account alike.
  const accountKey = budgetKey(`login:${email.key}`);
  const attempt = await spendAttempt(context.budgets.loginAttemptsPerAccount, accountKey);
  if (!attempt.allowed) {
    throw new FlowError('rate_limited', 'Too many failed attempts for this account, try again later', {
      retryAfterSeconds: attempt.retryAfterSeconds,
    });
  }
  const user = await context.users.findUserByEmailKey(email.key);
  const passwords = passwordHasherOf(context);
  // A deleted account answers as an unknown address, after the same work.
  if (user === null || user.passwordHash === null || user.deletedAt !== null) {
    await passwords.verifyAgainstDummyHash(password);
    throw invalid();
  }
  const check = await passwords.verifyPassword(user.passwordHash, password);
  if (!check.valid) throw invalid();
  // The right password: this attempt does not count. Earlier failures stay counted, so a success in between
  // never buys an attacker a fresh budget.
  await refundAttempt(context.budgets.loginAttemptsPerAccount, accountKey);
  // The password matched, so the account is not contested.
  const state = accountState(user);
  if (state === 'disabled') throw new FlowError('account_disabled', 'Account is deactivated');
  if (state === 'unverified') {
    if (await mayEmailRecipient(context, user.emailKey)) {
      await sendVerificationEmail(context, user);
    }
    throw new FlowError('email_not_verified', 'Please verify your email address: a new link has been sent');
  }
  if (check.needsRehash) {
    await context.users.replaceUserPasswordHash(
      user.id,
      user.passwordHash,
      await passwords.hashPassword(password),
    );
  }
  return createSession(context, user);
}

async function createSession(context: AccountContext, user: User): Promise<LoginResult> {
  const token = generateToken();
  const now = context.clock.now();
  const session: Session = {
    tokenHash: hashToken(token),
    userId: user.id,
    email: user.email,
    isActive: user.isActive,
    isVerified: user.isVerified,
    createdAt: now,
    expiresAt: secondsFrom(now, context.sessionLifetimeSeconds),
  };
  await context.sessions.createSession(session);
  return { token, expiresInSeconds: context.sessionLifetimeSeconds, user };
}
