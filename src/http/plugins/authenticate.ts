import type { FastifyRequest } from 'fastify';
import type { Session } from '../../flows/model.ts';

export const sessionCookieName = 'session_id';

/** The session token from `Authorization: Bearer` or, failing that, the session cookie. */
export function readSessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match !== null) return match[1];
  }
  const cookie = request.cookies[sessionCookieName];
  return cookie === undefined || cookie === '' ? undefined : cookie;
}

declare module 'fastify' {
  interface FastifyRequest {
    session: Session | null;
  }
}
