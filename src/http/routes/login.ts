import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { logIn } from '../../flows/login.ts';
import { invalidateSession } from '../../flows/sessions.ts';
import { createSessionCookie, sessionCookieHeader } from '../session-cookie.ts';
import { requireJsonBody } from '../plugins/json-only.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import type { HttpDeps } from '../route-deps.ts';
import { requireSession } from '../session-auth.ts';
import { logSecurityEvent, submittedEmailKey, withSecurityLog } from '../security-log.ts';
import { EmailField, MessageResponse, PasswordField, UserResponse, readEmailAddress } from '../schemas.ts';
import * as answers from '../answers.ts';

export const notAuthenticatedAnswer = answers.error(
  '`not_authenticated`: no token, or no live session behind it',
);

export function registerLoginRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const sessionCookie = createSessionCookie(deps);

  app.post(
    '/login',
    {
      schema: {
        summary: 'Log in: a bearer token and a session cookie for one revocable session',
        tags: ['sessions'],
        operationId: 'logIn',
        security: answers.noSecurity,
        body: Type.Object({
          email: EmailField,
          password: PasswordField,
          refresh_token: Type.Optional(
            Type.Boolean({ description: 'true: the answer carries a refresh token too (POST /token)' }),
          ),
        }),
        response: {
          ...answers.post,
          200: Type.Object(
            {
              access_token: Type.String(),
              token_type: Type.Literal('bearer'),
              expires_in: Type.Integer({ description: 'seconds' }),
              user: Type.Object({ id: Type.String(), email: Type.String(), is_verified: Type.Boolean() }),
              refresh_token: Type.Optional(
                Type.String({ description: 'Only when asked for: the first token of a new refresh family' }),
              ),
            },
            {
              description: 'Logged in: the session token, as a bearer token here and as a cookie',
              headers: sessionCookieHeader,
            },
          ),
          401: answers.error('`invalid_credentials`: unknown address or wrong password'),
          403: answers.error(
            '`email_not_verified` (a fresh link has been emailed) or `account_disabled`; or `csrf_refused`',
          ),
          415: answers.jsonOnly,
          422: answers.invalidBody,
          429: answers.error(
            "`rate_limited`: the client's budget for this route, or the account's, is spent (a lockout)",
            { retryAfter: true },
          ),
        },
      },
      preValidation: requireJsonBody,
      preHandler: limitByClientIp(deps.clientIpLimiters.login, 'login'),
    },
    async (request, reply) => {
      // Every outcome is logged, a lockout included; a 503 is the error handler's to log.
      const result = await withSecurityLog(
        request,
        'login',
        { emailKey: submittedEmailKey(request) },
        () =>
          logIn(
            deps.account,
            readEmailAddress(request.body.email),
            request.body.password,
            { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
            { refreshToken: request.body.refresh_token === true },
          ),
        (session) => ({ userId: session.user.id }),
      );
      sessionCookie.set(reply, result.token, result.expiresInSeconds);
      return {
        access_token: result.token,
        token_type: 'bearer' as const,
        expires_in: result.expiresInSeconds,
        user: { id: result.user.id, email: result.user.email, is_verified: result.user.isVerified },
        ...(result.refreshToken !== undefined && { refresh_token: result.refreshToken }),
      };
    },
  );

  app.get(
    '/me',
    {
      schema: {
        summary: 'Who am I: the account behind the bearer token or session cookie',
        tags: ['sessions'],
        operationId: 'readCurrentUser',
        security: answers.sessionSecurity,
        response: { ...answers.service, 200: UserResponse, 401: notAuthenticatedAnswer },
      },
    },
    async (request) => {
      const session = await requireSession(deps.account, request);
      return {
        id: session.userId,
        email: session.email,
        is_active: session.isActive,
        is_verified: session.isVerified,
      };
    },
  );

  app.post(
    '/logout',
    {
      schema: {
        summary: 'End this session: its bearer token and cookie are refused from now on',
        tags: ['sessions'],
        operationId: 'logOut',
        security: answers.sessionSecurity,
        response: {
          ...answers.post,
          200: Type.Object(MessageResponse.properties, {
            description: 'Logged out: the session ends and the cookie is cleared',
            headers: sessionCookieHeader,
          }),
          401: notAuthenticatedAnswer,
        },
      },
    },
    async (request, reply) => {
      const session = await requireSession(deps.account, request);
      const { auditRecorded } = await invalidateSession(deps.account, session);
      // The session has ended; only its audit row is missing (PostgreSQL down): this line stands in for it.
      if (!auditRecorded)
        logSecurityEvent(request, 'logout', { outcome: 'audit_unavailable', userId: session.userId });
      sessionCookie.clear(reply);
      return { message: 'Logged out successfully' };
    },
  );
}
