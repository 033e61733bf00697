import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionCookieName } from '../session-cookie.ts';
import { sendError } from './errors.ts';
import { logSecurityEvent } from '../security-log.ts';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CrossSiteOptions {
  readonly appOrigin: string;
  /** CORS_ORIGINS: may call the API from a browser; trusted for cookie-authenticated changes too. */
  readonly corsOrigins: readonly string[];
  readonly corsAllowCredentials: boolean;
}

/**
 * CORS by explicit allow-list, and a refusal of cross-site state changes that ride the session cookie.
 * Browsers send Origin (and Sec-Fetch-Site) on every cross-site POST, so a request whose cookie was attached
 * by a third-party page is recognised; bearer-token calls carry no ambient credential and pass.
 */
export async function registerCrossSiteProtection(
  app: FastifyInstance,
  options: CrossSiteOptions,
): Promise<void> {
  const listed = new Set(options.corsOrigins.filter((origin) => origin !== '*'));
  const anyOrigin = options.corsOrigins.includes('*');
  if (listed.size > 0 || anyOrigin) {
    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin !== undefined && (anyOrigin || listed.has(origin))),
      credentials: options.corsAllowCredentials,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization'],
      maxAge: 600,
    });
  }
  const trusted = new Set([options.appOrigin, ...listed]);

  app.addHook(
    'onRequest',
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      if (safeMethods.has(request.method)) return;
      if (!(request.headers.cookie ?? '').includes(`${sessionCookieName}=`)) return;
      if (/^Bearer\s/i.test(request.headers.authorization ?? '')) return;
      if (isSameSiteRequest(request, trusted)) return;
      logSecurityEvent(request, 'csrf_refused', {
        outcome: 'csrf_refused',
        ...(request.headers.origin !== undefined && { origin: request.headers.origin }),
      });
      return sendError(reply, 'csrf_refused');
    },
  );
}

function isSameSiteRequest(request: FastifyRequest, trusted: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) return trusted.has(origin);
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  // Neither header: not a browser, so no cookie was attached without its owner's intent.
  return true;
}
