import type { AccountContext } from './context.ts';
import type { Session } from './model.ts';
import { hashToken, isWellFormedToken } from '../security/tokens.ts';

/** The live session behind a bearer token or cookie, or null: revoked and expired sessions are refused. */
export async function findSessionByToken(
  context: Pick<AccountContext, 'sessions' | 'clock'>,
  token: string,
): Promise<Session | null> {
  if (!isWellFormedToken(token)) return null;
  return context.sessions.findSession(hashToken(token), context.clock.now());
}

/** Ends one session: the bearer token and the cookie (the same token) both stop working at once. */
export async function invalidateSession(
  context: Pick<AccountContext, 'sessions'>,
  session: Session,
): Promise<void> {
  await context.sessions.deleteSession(session.tokenHash);
}
