import type { AdminContext } from './admin-context.ts';
import { decodeCursor, defaultPageLimit, encodeCursor, isWellFormedId } from './admin-paging.ts';
import { markAccountDeleted } from './account-deletion.ts';
import { addressState } from './account-state.ts';
import { recordAuditEvent, type AuditEventName } from './audit.ts';
import { sendVerificationEmail } from './email-verification.ts';
import { FlowError } from './errors.ts';
import type { User } from './model.ts';
import { prepareResetEmail } from './password-reset.ts';
import {
  endSessionAndFamily,
  endUserSessions,
  publicSessionId,
  viewSessions,
  type SessionView,
} from './sessions.ts';
import { completeAuditEvent } from './audit.ts';
import { parseEmailAddress } from '../security/email-address.ts';

/** One account in a listing. */
export interface UserSummary {
  readonly id: string;
  readonly email: string;
  readonly isVerified: boolean;
  readonly isActive: boolean;
  readonly createdAt: Date;
  /** When the account was deleted (it is removed after the grace period), or null. */
  readonly deletedAt: Date | null;
}

/** One account as its admin page shows it. */
export interface UserDetails extends UserSummary {
  readonly lastLoginAt: Date | null;
  readonly sessionCount: number;
  /** The address an email change awaits confirmation from, or null. */
  readonly pendingEmailChange: string | null;
}

export interface UserPage {
  readonly users: readonly UserSummary[];
  /** Null only when the listing is complete. */
  readonly nextCursor: string | null;
}

function summaryOf(user: User): UserSummary {
  return {
    id: user.id,
    email: user.email,
    isVerified: user.isVerified,
    isActive: user.isActive,
    createdAt: user.createdAt,
    deletedAt: user.deletedAt,
  };
}

/** An admin action or read with no database change to share a transaction with. */
async function recordAdminEvent(
  context: AdminContext,
  event: AuditEventName,
  userId: string | null,
): Promise<void> {
  await recordAuditEvent(
    context.account.audit,
    { event, outcome: 'success', userId },
    context.account.clock.now(),
  );
}

/** The account with that address, normalised as login normalises it: zero or one account. */
export async function findUserByEmail(context: AdminContext, email: string): Promise<UserPage> {
  const address = parseEmailAddress(email);
  if (address === null) throw new FlowError('invalid_request', 'email: not a valid address');
  const user = await context.account.users.findUserByEmailKey(address.key);
  await recordAdminEvent(context, 'admin_user_lookup', user?.id ?? null);
  return { users: user === null ? [] : [summaryOf(user)], nextCursor: null };
}

/**
 * Every account, oldest first (by creation, then id), `limit` at a time: the cursor of one page starts the
 * next, so a listing never skips or repeats an account, even while others register. `containing` keeps the
 * accounts whose address contains that text, case-insensitively.
 */
export async function listUsers(
  context: AdminContext,
  query: { readonly containing?: string; readonly cursor?: string; readonly limit?: number },
): Promise<UserPage> {
  const after = decodeCursor(query.cursor);
  const containing =
    query.containing === undefined || query.containing === ''
      ? null
      : query.containing.normalize('NFKC').toLowerCase();
  const page = await context.directory.listUsers({
    containing,
    after,
    limit: query.limit ?? defaultPageLimit,
  });
  await recordAdminEvent(context, 'admin_user_list', null);
  return { users: page.rows.map(summaryOf), nextCursor: encodeCursor(page.next) };
}

/** The account behind an id from a listing: 400 `malformed_id` for a non-UUID, 404 `user_not_found`. */
export async function findUserForAdmin(context: AdminContext, userId: string): Promise<User> {
  if (!isWellFormedId(userId)) throw new FlowError('malformed_id');
  const user = await context.account.users.findUserById(userId);
  if (user === null) throw new FlowError('user_not_found');
  return user;
}

export async function showUser(context: AdminContext, userId: string): Promise<UserDetails> {
  const user = await findUserForAdmin(context, userId);
  const now = context.account.clock.now();
  const [lastLoginAt, sessions, pendingEmailChange] = await Promise.all([
    context.directory.findLastLoginAt(user.id),
    context.account.sessions.listUserSessions(user.id, now),
    context.directory.findPendingEmailChange(user.id, now),
  ]);
  await recordAdminEvent(context, 'admin_user_view', user.id);
  return { ...summaryOf(user), lastLoginAt, sessionCount: sessions.length, pendingEmailChange };
}

/**
 * Disables the account and ends every session and refresh family. Disabled first, sessions second: a login
 * that checked the password before the commit stores its session either before the sessions are ended (and
 * is ended with them) or after, when it reads the account again and ends its own session (see logIn); a
 * refresh finds the account disabled and ends its family (refreshSession).
 */
export async function disableUser(context: AdminContext, userId: string): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  await setActive(context, user.id, false, 'admin_disable');
  await endUserSessions(context.account, user.id);
}

/** Lets the account log in again; its sessions stay ended. */
export async function enableUser(context: AdminContext, userId: string): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  await setActive(context, user.id, true, 'admin_enable');
}

async function setActive(
  context: AdminContext,
  userId: string,
  isActive: boolean,
  event: AuditEventName,
): Promise<void> {
  await context.account.transactor.runInTransaction(async (stores) => {
    await stores.users.setUserActive(userId, isActive);
    await recordAuditEvent(stores.audit, { event, outcome: 'success', userId }, context.account.clock.now());
  });
}

/** The account's live sessions as its owner sees them (device, address, times), the most recently used first. */
export async function listUserSessionsForAdmin(
  context: AdminContext,
  userId: string,
): Promise<SessionView[]> {
  const user = await findUserForAdmin(context, userId);
  const sessions = await context.account.sessions.listUserSessions(user.id, context.account.clock.now());
  await recordAdminEvent(context, 'admin_sessions_view', user.id);
  return viewSessions(sessions, null);
}

/**
 * Ends one session of the account (and its refresh family) by its public id, as its owner can from the
 * session list: 404 `session_not_found` for an id that is not one of this account's live sessions.
 */
export async function endUserSessionForAdmin(
  context: AdminContext,
  userId: string,
  sessionId: string,
): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  const sessions = await context.account.sessions.listUserSessions(user.id, context.account.clock.now());
  const target = sessions.find((session) => publicSessionId(session.tokenHash) === sessionId);
  if (target === undefined) throw new FlowError('session_not_found');
  await endSessionAndFamily(context.account, target);
  await recordAdminEvent(context, 'admin_session_end', user.id);
}

/** Ends every session and refresh family of the account. */
export async function logOutUser(context: AdminContext, userId: string): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  await endUserSessions(context.account, user.id);
  await recordAdminEvent(context, 'admin_logout', user.id);
}

/** Sends the owner a fresh verification link; 409 `already_verified` when there is nothing to verify. */
export async function resendUserVerification(context: AdminContext, userId: string): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  if (user.deletedAt !== null || addressState(user) !== 'unverified') throw new FlowError('already_verified');
  await sendVerificationEmail(context.account, user);
  await recordAdminEvent(context, 'admin_resend_verification', user.id);
}

/**
 * Sends the owner a reset link (older ones stop working). Nobody but the mailbox's owner learns or sets the
 * new password.
 */
export async function sendUserPasswordReset(context: AdminContext, userId: string): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  if (user.deletedAt !== null) throw new FlowError('user_not_found');
  await context.account.transactor.issueTokenWithEmail(
    user.id,
    prepareResetEmail(context.account, user, 'password_reset'),
    {
      replacePrevious: true,
      audit: completeAuditEvent(
        { event: 'admin_password_reset', outcome: 'success', userId: user.id },
        context.account.clock.now(),
      ),
    },
  );
}

/**
 * Brings back an account deleted during its grace period, as the owner's restore link would: address, password
 * and verified state as they were; the restore link ends. Its sessions stay ended: the owner logs in again.
 * Nothing to do for an account that is not deleted; 404 once the clean-up has removed it.
 */
export async function restoreDeletedUser(context: AdminContext, userId: string): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  if (user.deletedAt === null) return;
  await context.account.transactor.runInTransaction(async (stores) => {
    const now = context.account.clock.now();
    // The row first: the clean-up skips a locked account, so it cannot remove one being restored.
    if ((await stores.users.lockUserById(user.id)) === null) throw new FlowError('user_not_found');
    // Restored meanwhile (by its owner's link): already done.
    if (!(await stores.users.restoreUser(user.id))) return;
    await stores.tokens.invalidateUserTokens(user.id, 'account_restore', now);
    await recordAuditEvent(
      stores.audit,
      { event: 'admin_restore', outcome: 'success', userId: user.id },
      now,
    );
  });
}

/** Deletes the account as its owner would: sessions end, the owner gets the restore link for the grace period. */
export async function deleteUser(context: AdminContext, userId: string): Promise<void> {
  const user = await findUserForAdmin(context, userId);
  if (user.deletedAt !== null) return;
  await markAccountDeleted(context.account, user, 'admin_delete');
}
