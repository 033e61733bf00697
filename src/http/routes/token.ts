import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { FlowError } from '../../flows/errors.ts';
import { refreshSession } from '../../flows/refresh-tokens.ts';
import { countRefreshTokenReuse } from '../plugins/metrics.ts';
import { sendError } from '../plugins/errors.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import type { HttpDeps } from '../route-deps.ts';
import { logSecurityEvent, withSecurityLog } from '../security-log.ts';
import * as answers from '../answers.ts';

/** The only grant this token endpoint serves (RFC 6749 section 6). */
const refreshTokenGrant = 'refresh_token';

export function registerTokenRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/token',
    {
      schema: {
        summary: 'Refresh: a new session and the next refresh token for a refresh token (OAuth 2 style)',
        description:
          'Takes `grant_type=refresh_token` and a refresh token from `POST /login` (with `refresh_token: true`) or ' +
          'from an earlier `/token`, as JSON or form-encoded. Every answer carries `Cache-Control: no-store`. ' +
          'The token used is replaced; replaying it within REFRESH_REUSE_GRACE_SECONDS answers the same pair, ' +
          'replaying it later ends its family and every session the family minted.',
        tags: ['sessions'],
        operationId: 'refreshSession',
        ...answers.publicFormPost,
        body: Type.Object({
          grant_type: Type.Optional(Type.String({ maxLength: 64, description: 'Must be `refresh_token`' })),
          refresh_token: Type.Optional(Type.String({ maxLength: 512 })),
        }),
        response: {
          ...answers.post,
          200: Type.Object(
            {
              access_token: Type.String({ description: 'A new session token: works on /me, /logout' }),
              token_type: Type.Literal('bearer'),
              expires_in: Type.Integer({ description: 'seconds' }),
              refresh_token: Type.String({ description: 'The next refresh token; the one sent is replaced' }),
            },
            { description: 'Refreshed: a new session and the next refresh token of the family' },
          ),
          400: answers.error(
            '`invalid_grant` (unknown, expired, revoked or reused refresh token), `unsupported_grant_type`, ' +
              'or `invalid_request` (a missing or mistyped field, or a body that cannot be parsed)',
          ),
          429: answers.error(
            "`rate_limited`: the client's budget for this route, or the refresh family's, is spent",
            { retryAfter: true },
          ),
        },
      },
      attachValidation: true,
      preHandler: limitByClientIp(deps.clientIpLimiters.token, 'token'),
      onSend: async (_request, reply) => {
        // Tokens in every answer body (RFC 6749 section 5.1): no cache may keep one.
        reply.header('cache-control', 'no-store');
        reply.header('pragma', 'no-cache');
      },
    },
    async (request, reply) => {
      // OAuth 2 answers a malformed token request with 400, not the 422 of the other routes.
      if (request.validationError !== undefined) {
        return sendError(reply, 'invalid_request', { status: 400, detail: request.validationError.message });
      }
      const { grant_type: grantType, refresh_token: refreshToken } = request.body;
      if (grantType === undefined || refreshToken === undefined) {
        const field = grantType === undefined ? 'grant_type' : 'refresh_token';
        return sendError(reply, 'invalid_request', {
          status: 400,
          detail: `body: field "${field}" is required`,
        });
      }
      if (grantType !== refreshTokenGrant) throw new FlowError('unsupported_grant_type');
      const result = await withSecurityLog(
        request,
        'token_refresh',
        {},
        () =>
          refreshSession(
            deps.account,
            refreshToken,
            { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
            {
              onReuseDetected: ({ userId }) => {
                logSecurityEvent(request, 'refresh_token_reuse', { outcome: 'family_revoked', userId });
                countRefreshTokenReuse(request);
              },
            },
          ),
        (refreshed) => ({ userId: refreshed.userId }),
      );
      return {
        access_token: result.token,
        token_type: 'bearer' as const,
        expires_in: result.expiresInSeconds,
        refresh_token: result.refreshToken,
      };
    },
  );
}
