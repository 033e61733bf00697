import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateRequest } from './answers.ts';
import type { LatchkeyClaims, Verifier } from './verifier.ts';

export interface LatchkeyMiddlewareOptions {
  /** From createVerifier: one per process, so that its key cache is shared by every request. */
  readonly verifier: Verifier;
}

/** The request as the middleware leaves it for the next handler. */
export type AuthenticatedRequest = IncomingMessage & { auth?: LatchkeyClaims };

/**
 * A Connect/Express middleware `(req, res, next)`: a valid access token puts its claims in `req.auth` and
 * calls `next()`; otherwise it answers itself, exactly as the fastify plugin does (401 with
 * `WWW-Authenticate: Bearer`, or 503 when the key set cannot be fetched and no cached key matches).
 */
export function createLatchkeyMiddleware(
  options: LatchkeyMiddlewareOptions,
): (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void {
  const { verifier } = options;
  return (request, response, next) => {
    authenticateRequest(verifier, request.headers.authorization).then(
      (outcome) => {
        if ('claims' in outcome) {
          (request as AuthenticatedRequest).auth = outcome.claims;
          next();
          return;
        }
        const { refusal } = outcome;
        const body = JSON.stringify(refusal.body);
        response.writeHead(refusal.statusCode, {
          ...refusal.headers,
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        });
        response.end(body);
      },
      (error: unknown) => next(error),
    );
  };
}
