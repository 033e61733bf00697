import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { mintAccessToken } from '../../flows/signing-keys.ts';
import type { HttpDeps } from '../route-deps.ts';
import * as answers from '../answers.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import { requireSession } from '../session-auth.ts';
import { notAuthenticatedAnswer } from './login.ts';

export const jwksPath = '/.well-known/jwks.json';

const AccessTokenResponse = Type.Object(
  {
    access_token: Type.String({
      description:
        'A JWT (EdDSA over Ed25519, `typ` `at+jwt`) for downstream services, which verify it against the JWKS; claims in docs/api.md',
    }),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ minimum: 1, description: 'Seconds until its `exp` (JWT_EXPIRE_SECONDS)' }),
  },
  {
    description:
      'Minted: valid until `exp` even if the session ends before; never stored, so nothing to revoke',
    headers: { 'cache-control': { type: 'string', description: '`no-store`' } },
  },
);

const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object({
        kty: Type.Literal('OKP'),
        crv: Type.Literal('Ed25519'),
        x: Type.String({ description: 'The public key, base64url' }),
        kid: Type.String({ description: "The key's RFC 7638 thumbprint, as in the JWT header" }),
        alg: Type.Literal('EdDSA'),
        use: Type.Literal('sig'),
      }),
      {
        description:
          'The keys that sign now, the next one (published before it signs) and retired ones whose tokens may still be live',
      },
    ),
  },
  {
    description: 'The public signing keys (never a private member)',
    headers: {
      'cache-control': {
        type: 'string',
        description: '`public, max-age=<JWT_JWKS_MAX_AGE_SECONDS>`: shorter than the lead of a new key',
      },
    },
  },
);

/** Signed JWTs for downstream services, and the keys that verify them. */
export function registerJwtRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { accessTokens } = deps;

  app.post(
    '/jwt',
    {
      schema: {
        summary: 'Mint a short-lived signed JWT for the session, for services that verify it locally',
        tags: ['sessions'],
        operationId: 'mintJwt',
        security: answers.sessionSecurity,
        response: {
          ...answers.post,
          200: AccessTokenResponse,
          401: notAuthenticatedAnswer,
          429: answers.rateLimited,
        },
      },
      preHandler: limitByClientIp(deps.clientIpLimiters.jwt, 'jwt'),
    },
    async (request) => {
      const session = await requireSession(deps.account, request);
      const minted = mintAccessToken(
        accessTokens.signingKeys,
        deps.account.clock,
        accessTokens.settings,
        session,
      );
      return {
        access_token: minted.accessToken,
        token_type: 'bearer' as const,
        expires_in: minted.expiresInSeconds,
      };
    },
  );

  app.get(
    jwksPath,
    {
      schema: {
        summary: 'The JSON Web Key Set that verifies the JWTs of POST /jwt',
        tags: ['sessions'],
        operationId: 'getJwks',
        security: answers.noSecurity,
        response: { ...answers.service, 200: Jwks },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${accessTokens.jwksMaxAgeSeconds}`);
      return { keys: accessTokens.signingKeys.publishedKeys() };
    },
  );
}
