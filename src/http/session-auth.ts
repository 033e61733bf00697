import type { FastifyRequest } from 'fastify';
import type { AccountContext } from '../flows/context.ts';
import { FlowError } from '../flows/errors.ts';
import type { Session } from '../flows/model.ts';
import { findSessionByToken } from '../flows/sessions.ts';
import { readSessionToken } from './session-cookie.ts';

/** The live session behind the bearer token or the cookie; `not_authenticated` (401) otherwise. */
export async function requireSession(
  account: Pick<AccountContext, 'sessions' | 'clock'>,
  request: FastifyRequest,
): Promise<Session> {
  const token = readSessionToken(request);
  const session = token === undefined ? null : await findSessionByToken(account, token);
  if (session === null) throw new FlowError('not_authenticated');
  return session;
}
