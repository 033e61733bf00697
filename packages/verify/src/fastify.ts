import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { authenticateRequest } from './answers.ts';
import type { LatchkeyClaims, Verifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified claims of the request's access token (set on every route the plugin guards). */
    auth: LatchkeyClaims | null;
  }
}

export interface LatchkeyAuthPluginOptions {
  /** From createVerifier: one per process, so that its key cache is shared by every request. */
  readonly verifier: Verifier;
}

/**
 * Every route of the scope it is registered in (and of its children) needs a valid access token: the claims
 * land in `request.auth`; a missing or bad token is answered 401 with `WWW-Authenticate: Bearer`, a key set
 * that cannot be fetched (and no cached key matching) 503. Register it in a child scope to keep some routes
 * public.
 */
async function registerLatchkeyAuth(app: FastifyInstance, options: LatchkeyAuthPluginOptions): Promise<void> {
  const { verifier } = options;
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request, reply) => {
    const outcome = await authenticateRequest(verifier, request.headers.authorization);
    if ('claims' in outcome) {
      request.auth = outcome.claims;
      return;
    }
    const { refusal } = outcome;
    return reply.code(refusal.statusCode).headers(refusal.headers).send(refusal.body);
  });
}

// Like fastify-plugin: the hook and the decoration apply to the scope that registers the plugin, not to a
// child scope of the plugin's own, where no route would see them.
Object.assign(registerLatchkeyAuth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@latchkey/verify',
});

export const latchkeyAuth: FastifyPluginAsync<LatchkeyAuthPluginOptions> = registerLatchkeyAuth;
