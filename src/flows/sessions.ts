import { recordAuditEvent } from './audit.ts';
import type { AccountContext } from './context.ts';
import { DependencyUnavailableError, FlowError } from './errors.ts';
import type { Session } from './model.ts';
import { hashToken, isWellFormedToken } from '../security/tokens.ts';

/**
 * How stale a session's last_seen_at may get: a request writes it only when it is older than this, so a
 * session in use costs one write every five minutes and who-am-I stays a single read otherwise.
 */
export const sessionActivityIntervalSeconds = 5 * 60;

/** How much of the User-Agent header a session keeps. */
export const userAgentMaxLength = 256;

/** The client a session is created for, as the HTTP layer sees it. */
export interface SessionClient {
  /** The client address (as TRUST_PROXY resolves it). */
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export const unknownClient: SessionClient = { ip: null, userAgent: null };

/** The live session behind a bearer token or cookie, or null: revoked and expired sessions are refused. */
export async function findSessionByToken(
  context: Pick<AccountContext, 'sessions' | 'clock'>,
  token: string,
): Promise<Session | null> {
  if (!isWellFormedToken(token)) return null;
  const now = context.clock.now();
  const session = await context.sessions.findSession(hashToken(token), now);
  if (session === null) return null;
  if (now.getTime() - session.lastSeenAt.getTime() < sessionActivityIntervalSeconds * 1000) return session;
  await context.sessions.touchSession(session, now);
  return { ...session, lastSeenAt: now };
}

/**
 * Ends one session: the bearer token and the cookie (the same token) both stop working at once. A session
 * that came from a refresh family ends its family too (see endSessionAndFamily). With sessions in Redis, a
 * plain session ends while PostgreSQL is down; its `logout` audit event cannot be written then, and the
 * answer says so (`auditRecorded: false`) for the caller to log instead of refusing a logout that happened.
 */
export async function invalidateSession(
  context: SessionEndingContext,
  session: Session,
): Promise<{ readonly auditRecorded: boolean }> {
  await endSessionAndFamily(context, session);
  try {
    await recordAuditEvent(
      context.audit,
      { event: 'logout', outcome: 'success', userId: session.userId },
      context.clock.now(),
    );
  } catch (error) {
    if (error instanceof DependencyUnavailableError) return { auditRecorded: false };
    throw error;
  }
  return { auditRecorded: true };
}

/** What ending sessions and refresh families needs. */
export type SessionEndingContext = Pick<AccountContext, 'sessions' | 'refreshFamilies' | 'clock' | 'audit'>;

/**
 * Ends one session and, when a login with a refresh token or a refresh minted it, its refresh family with
 * every session the family minted: logging out of a device ends that device's refresh token too.
 */
export async function endSessionAndFamily(
  context: SessionEndingContext,
  session: Pick<Session, 'tokenHash' | 'refreshFamilyId'>,
): Promise<void> {
  // A session that records its family (or that it has none) is ended without asking the family store, so
  // with sessions in Redis, logging out of a plain session does not need PostgreSQL.
  const familyId =
    session.refreshFamilyId === undefined
      ? await context.refreshFamilies.findFamilyIdOfSession(session.tokenHash)
      : session.refreshFamilyId;
  if (familyId !== null) await endRefreshFamily(context, familyId);
  await context.sessions.deleteSession(session.tokenHash);
}

/**
 * Revokes a refresh family, then ends every session it minted. In this order, a refresh in flight either
 * fails to rotate the revoked family, or rotated before it and its session is among those ended here; a
 * refresh that stored its session after this read sees the family revoked when it checks again, and ends
 * that session itself (refreshSession).
 */
export async function endRefreshFamily(context: SessionEndingContext, familyId: string): Promise<void> {
  const sessionTokenHashes = await context.refreshFamilies.revokeFamily(familyId, context.clock.now());
  for (const sessionTokenHash of sessionTokenHashes) await context.sessions.deleteSession(sessionTokenHash);
}

/**
 * The one way to end an account's sessions: every refresh family of the account is revoked first, then every
 * session ends (logout everywhere, password reset, email change, deletion). With `kept`, that session and the
 * family that minted it stay (a password change keeps the device that made it). Families first, for the
 * reason endRefreshFamily gives.
 */
export async function endUserSessions(
  context: SessionEndingContext,
  userId: string,
  kept?: Session,
): Promise<void> {
  const now = context.clock.now();
  if (kept === undefined) {
    await context.refreshFamilies.revokeUserFamilies(userId, now);
    await context.sessions.deleteUserSessions(userId);
    return;
  }
  await context.refreshFamilies.revokeUserFamilies(userId, now, { keptSessionTokenHash: kept.tokenHash });
  await context.sessions.deleteOtherUserSessions(userId, kept.tokenHash);
}

/**
 * A session's public id: what the session list shows and DELETE /me/sessions/{id} takes. Derived from the
 * token hash by a second SHA-256, so it is neither the token nor its hash, cannot be turned back into
 * either, needs no storage, and sessions created before ids existed have one too.
 */
export function publicSessionId(tokenHash: string): string {
  return hashToken(`session-id:${tokenHash}`).slice(0, 32);
}

/** One session as its owner sees it in the list. */
export interface SessionView {
  readonly id: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The session the list was asked for with. */
  readonly current: boolean;
}

/** The account's live sessions, the most recently used first. Changes nothing. */
export async function listSessions(
  context: Pick<AccountContext, 'sessions' | 'clock'>,
  current: Session,
): Promise<SessionView[]> {
  const sessions = await context.sessions.listUserSessions(current.userId, context.clock.now());
  return viewSessions(sessions, current);
}

/**
 * Sessions as a list shows them, the most recently used first; `current` (the session that asks, if any) is
 * marked, and shows the request that asks rather than a write up to five minutes old.
 */
export function viewSessions(sessions: readonly Session[], current: Session | null): SessionView[] {
  return sessions
    .map((session) => {
      const isCurrent = session.tokenHash === current?.tokenHash;
      return {
        id: publicSessionId(session.tokenHash),
        createdAt: session.createdAt,
        lastSeenAt: isCurrent ? current.lastSeenAt : session.lastSeenAt,
        expiresAt: session.expiresAt,
        ip: session.ip,
        userAgent: session.userAgent,
        current: isCurrent,
      };
    })
    .sort(
      (a, b) =>
        b.lastSeenAt.getTime() - a.lastSeenAt.getTime() || b.createdAt.getTime() - a.createdAt.getTime(),
    );
}

/**
 * Ends one of the account's sessions by its public id (the caller's own included). An id of another
 * account's session and an unknown id are refused alike: 404 `session_not_found`.
 */
export async function endSession(
  context: SessionEndingContext,
  current: Session,
  sessionId: string,
): Promise<{ readonly endedCurrent: boolean }> {
  const sessions = await context.sessions.listUserSessions(current.userId, context.clock.now());
  const target = sessions.find((session) => publicSessionId(session.tokenHash) === sessionId);
  if (target === undefined) throw new FlowError('session_not_found');
  await endSessionAndFamily(context, target);
  await recordAuditEvent(
    context.audit,
    { event: 'session_ended', outcome: 'success', userId: current.userId },
    context.clock.now(),
  );
  return { endedCurrent: target.tokenHash === current.tokenHash };
}

/** Ends every session of the account but the caller's. */
export async function endOtherSessions(context: SessionEndingContext, current: Session): Promise<void> {
  await endUserSessions(context, current.userId, current);
  await recordAuditEvent(
    context.audit,
    { event: 'session_ended', outcome: 'others', userId: current.userId },
    context.clock.now(),
  );
}
