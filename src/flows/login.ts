import { accountState } from './account-state.ts';
import { recordAuditEvent, type AuditOutcome } from './audit.ts';
import { budgetKey, mayEmailRecipient, refundAttempt, spendAttempt } from './attempt-budgets.ts';
import { passwordHasherOf, secondsFrom, type AccountContext } from './context.ts';
import { sendVerificationEmail } from './email-verification.ts';
import { FlowError } from './errors.ts';
import type { Session, User } from './model.ts';
import { startRefreshFamily } from './refresh-tokens.ts';
import { endSessionAndFamily, unknownClient, userAgentMaxLength, type SessionClient } from './sessions.ts';
import type { EmailAddress } from '../security/email-address.ts';
import { generateToken, hashToken } from '../security/tokens.ts';

export interface LoginResult {
  /** The session token: sent once, as bearer token and cookie; only its hash is stored. */
  readonly token: string;
  readonly expiresInSeconds: number;
  readonly user: User;
  /** Asked for: the first token of a new refresh family (POST /token). Only its hash is stored. */
  readonly refreshToken?: string;
}

/** Unknown address and wrong password fail identically, after the same amount of hashing work. */
export async function logIn(
  context: AccountContext,
  email: EmailAddress,
  password: string,
  client: SessionClient = unknownClient,
  options: { readonly refreshToken?: boolean } = {},
): Promise<LoginResult> {
  // Built only on failure: an Error captures a stack trace, which a successful login has no use for.
  const invalid = (): FlowError => new FlowError('invalid_credentials', 'Incorrect email or password');
  const audit = (
    outcome: AuditOutcome,
    userId: string | null,
    event: 'login' | 'login_throttled' = 'login',
  ) => recordAuditEvent(context.audit, { event, outcome, userId }, context.clock.now());
  // Spent before anything is looked up, for addresses with and without an account alike.
  const accountKey = budgetKey(loginBudgetKey(email.key));
  const attempt = await spendAttempt(context.budgets.loginAttemptsPerAccount, accountKey);
  if (!attempt.allowed) {
    await audit('rate_limited', null, 'login_throttled');
    throw new FlowError('rate_limited', 'Too many failed attempts for this account, try again later', {
      retryAfterSeconds: attempt.retryAfterSeconds,
    });
  }
  const user = await context.users.findUserByEmailKey(email.key);
  const passwords = passwordHasherOf(context);
  // A deleted account answers as an unknown address, after the same work.
  if (user === null || user.passwordHash === null || user.deletedAt !== null) {
    await passwords.verifyAgainstDummyHash(password);
    await audit('invalid_credentials', null);
    throw invalid();
  }
  const check = await passwords.verifyPassword(user.passwordHash, password);
  if (!check.valid) {
    await audit('invalid_credentials', user.id);
    throw invalid();
  }
  // The right password: this attempt does not count. Earlier failures stay counted, so a success in between
  // never buys an attacker a fresh budget.
  await refundAttempt(context.budgets.loginAttemptsPerAccount, accountKey);
  // The password matched, so the account is not contested.
  const state = accountState(user);
  if (state === 'disabled') {
    await audit('account_disabled', user.id);
    throw new FlowError('account_disabled', 'Account is deactivated');
  }
  if (state === 'unverified') {
    await audit('email_not_verified', user.id);
    if (await mayEmailRecipient(context, user.emailKey)) {
      await sendVerificationEmail(context, user);
    }
    throw new FlowError('email_not_verified', 'Please verify your email address: a new link has been sent');
  }
  let verifiedHash = user.passwordHash;
  if (check.needsRehash) {
    const rehashed = await passwords.hashPassword(password);
    await context.users.replaceUserPasswordHash(user.id, user.passwordHash, rehashed);
    verifiedHash = rehashed;
  }
  // The session records its family, so ending it needs the family store only when there is one.
  const refreshFamilyId = options.refreshToken === true ? crypto.randomUUID() : null;
  const session = await createSession(context, user, client, refreshFamilyId);
  // The family starts before the password is read again below, so a password change that ends the account's
  // families after it commits either reaches this one or is seen by that read.
  const result =
    refreshFamilyId !== null
      ? {
          ...session,
          refreshToken: await startRefreshFamily(context, user.id, hashToken(session.token), refreshFamilyId),
        }
      : session;
  await endSessionIfChanged(context, result, verifiedHash, password, invalid);
  await audit('success', user.id);
  return result;
}

/** The account's login budget key (before hashing): a password change spends the same budget. */
export function loginBudgetKey(emailKey: string): string {
  return `login:${emailKey}`;
}

/**
 * A password change may have committed between the check above and the new session: the change ends the
 * account's other sessions after it commits, so a session stored before that is ended there; one stored after
 * it is caught here, by reading the hash once more. A hash that differs only by a concurrent rehash still
 * accepts the password; anything else means the password changed, and the session ends before anyone sees it.
 * An operator disabling the account works the same way: it commits is_active false, then ends the sessions.
 */
async function endSessionIfChanged(
  context: AccountContext,
  result: LoginResult,
  verifiedHash: string,
  password: string,
  invalid: () => FlowError,
): Promise<void> {
  const current = await context.users.findUserById(result.user.id);
  if (current !== null && !current.isActive) {
    await endSessionAndFamily(context, { tokenHash: hashToken(result.token) });
    throw new FlowError('account_disabled', 'Account is deactivated');
  }
  if (current?.passwordHash === verifiedHash) return;
  const stillValid =
    current !== null &&
    current.passwordHash !== null &&
    (await passwordHasherOf(context).verifyPassword(current.passwordHash, password)).valid;
  if (stillValid) return;
  await endSessionAndFamily(context, { tokenHash: hashToken(result.token) });
  throw invalid();
}

async function createSession(
  context: AccountContext,
  user: User,
  client: SessionClient,
  refreshFamilyId: string | null,
): Promise<LoginResult> {
  const token = generateToken();
  const session = buildSession(context, user, hashToken(token), client, refreshFamilyId);
  await context.sessions.createSession(session);
  return { token, expiresInSeconds: context.sessionLifetimeSeconds, user };
}

/** A new session of `user` for `client`, starting now (a login's, or a refresh's). */
export function buildSession(
  context: Pick<AccountContext, 'clock' | 'sessionLifetimeSeconds'>,
  user: User,
  tokenHash: string,
  client: SessionClient,
  refreshFamilyId: string | null,
): Session {
  const now = context.clock.now();
  return {
    tokenHash,
    userId: user.id,
    email: user.email,
    isActive: user.isActive,
    isVerified: user.isVerified,
    createdAt: now,
    expiresAt: secondsFrom(now, context.sessionLifetimeSeconds),
    lastSeenAt: now,
    ip: client.ip,
    userAgent: client.userAgent === null ? null : truncate(client.userAgent, userAgentMaxLength),
    refreshFamilyId,
  };
}

/** At most `length` characters, never half of a surrogate pair. */
function truncate(text: string, length: number): string {
  return text.length <= length ? text : Array.from(text).slice(0, length).join('');
}
