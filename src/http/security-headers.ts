import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * Strict headers on every response, errors and 404s included. No inline script or style anywhere, so the
 * pages and /docs work under `'self'` only.
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  options: {
    https: boolean;
    /**
     * RETURN_TO_ORIGINS: a sign-in form's answer may redirect there, and browsers hold a form's redirects to
     * `form-action` too.
     */
    returnToOrigins?: readonly string[];
  },
): Promise<void> {
  // Built once: @fastify/helmet rebuilds the middleware, CSP parsing included, on every request
  // (about a tenth of the CPU of a session check; docs/performance.md), and the middleware itself sets each
  // header through a chain of callbacks.
  const applySecurityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        formAction: ["'self'", ...(options.returnToOrigins ?? [])],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
  // Helmet's headers here depend on nothing of the request: computed once, then copied onto every answer.
  const headers = captureHeaders(applySecurityHeaders);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  // Auth answers carry tokens and account data: no cache, shared or private, may keep them. The JWKS is
  // public and meant to be cached (its route sets the max-age).
  app.addHook('onSend', async (request, reply) => {
    if (
      !request.url.startsWith('/assets/') &&
      !request.url.startsWith('/docs/static/') &&
      !(request.routeOptions.url === '/.well-known/jwks.json' && reply.statusCode === 200)
    ) {
      reply.header('cache-control', 'no-store');
    }
  });
}

/** Runs the middleware once against a stand-in response and keeps the headers it sets. */
function captureHeaders(middleware: ReturnType<typeof helmet>): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously');
  return headers;
}
