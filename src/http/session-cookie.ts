import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const sessionCookieName = 'session_id';

/** The session cookie, set at login and cleared at logout with the same attributes (a browser needs both alike). */
export interface SessionCookie {
  set(reply: FastifyReply, token: string, maxAgeSeconds: number): void;
  clear(reply: FastifyReply): void;
}

/**
 * `secure` unless the service is plainly local http. HttpOnly: scripts never read the token; SameSite=Lax:
 * cross-site subrequests and form posts do not carry it (the CSRF check refuses the rest).
 */
export function createSessionCookie(options: {
  readonly secureCookies: boolean;
  /** SESSION_COOKIE_DOMAIN: sibling subdomains receive the cookie too; absent: this host only. */
  readonly sessionCookieDomain?: string;
}): SessionCookie {
  const attributes: CookieSerializeOptions = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: options.secureCookies,
    ...(options.sessionCookieDomain !== undefined && { domain: options.sessionCookieDomain }),
  };
  return {
    set(reply, token, maxAgeSeconds) {
      reply.setCookie(sessionCookieName, token, { ...attributes, maxAge: maxAgeSeconds });
    },
    clear(reply) {
      reply.clearCookie(sessionCookieName, attributes);
    },
  };
}

/** The Set-Cookie header of /login and /logout, as /openapi.json describes it. */
export const sessionCookieHeader = {
  'set-cookie': {
    type: 'string',
    description: `\`${sessionCookieName}=<token>; Max-Age=<seconds>; Path=/; HttpOnly; SameSite=Lax\` (and \`Domain=<SESSION_COOKIE_DOMAIN>\` when set, \`Secure\` unless the service is plain local http) at login; the same cookie emptied and expired at logout`,
  },
} as const;

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
