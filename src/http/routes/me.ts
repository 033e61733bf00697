import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { changeAccountLocale } from '../../flows/account-locale.ts';
import { changePassword } from '../../flows/password-change.ts';
import { supportedLocales } from '../../security/locale.ts';
import { endOtherSessions, endSession, listSessions, type SessionView } from '../../flows/sessions.ts';
import { answerForm, isFormPost } from '../form-reply.ts';
import { renderMessagePage } from '../pages/layout.ts';
import type { HttpDeps } from '../route-deps.ts';
import { withSecurityLog } from '../security-log.ts';
import { MessageResponse, PasswordField } from '../schemas.ts';
import * as answers from '../answers.ts';
import { requireJsonBody } from '../plugins/json-only.ts';
import { requireSession } from '../session-auth.ts';
import { notAuthenticatedAnswer } from './login.ts';

/** A string, or null where the session predates it (sessions created before these were kept). */
const NullableString = (description: string) =>
  Type.Unsafe<string | null>({ type: 'string', nullable: true, description });

/** One live session as a list shows it, to its owner and to operators alike. */
export const sessionFields = {
  id: Type.String({ description: "The session's public id: neither its token nor the token's hash" }),
  created_at: Type.String({ format: 'date-time' }),
  last_seen_at: Type.String({
    format: 'date-time',
    description: 'The last request with this session, to within 5 minutes (the current one: now)',
  }),
  expires_at: Type.String({ format: 'date-time' }),
  ip: NullableString('The client address at login, as TRUST_PROXY resolves it'),
  user_agent: NullableString('The User-Agent at login, at most 256 characters'),
};

/** The body of a session list entry (without `current`, which only the owner's list has). */
export function sessionBody(view: SessionView): {
  id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
} {
  return {
    id: view.id,
    created_at: view.createdAt.toISOString(),
    last_seen_at: view.lastSeenAt.toISOString(),
    expires_at: view.expiresAt.toISOString(),
    ip: view.ip,
    user_agent: view.userAgent,
  };
}

const SessionList = Type.Array(
  Type.Object({
    ...sessionFields,
    current: Type.Boolean({ description: 'The session this request was made with' }),
  }),
  { description: 'The live sessions of the account, the most recently used first' },
);

const passwordChangedMessage = 'Password changed: every other session has been ended';

/** The signed-in person's own account: routes that need a live session. */
export function registerAccountRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/me/password',
    {
      schema: {
        summary: 'Change the password: needs the current one; every other session ends',
        tags: ['account'],
        operationId: 'changePassword',
        security: answers.sessionSecurity,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: Type.Object({ current_password: PasswordField, new_password: PasswordField }),
        response: {
          ...answers.post,
          200: answers.jsonOrPage(
            'Changed: every other session of the account has ended (this one goes on), open reset and verification links are void, and the owner is emailed',
            MessageResponse,
          ),
          401: answers.error('`not_authenticated`: no token, or no live session behind it', {
            html: true,
          }),
          403: answers.error('`invalid_current_password`: the current password is wrong; or `csrf_refused`', {
            html: true,
          }),
          422: answers.error(
            '`invalid_request` (a missing or mistyped field), or the new password breaks a rule: `password_too_short`, `password_too_long`, `password_contains_email`, `password_too_common`',
            { html: true },
          ),
          429: answers.error(
            "`rate_limited`: the account's login budget is spent (wrong current passwords count as failed logins)",
            { retryAfter: true, html: true },
          ),
        },
      },
    },
    async (request, reply) => {
      const work = async (): Promise<void> => {
        const session = await requireSession(deps.account, request);
        await withSecurityLog(
          request,
          'password_change',
          { userId: session.userId },
          () =>
            changePassword(deps.account, session, request.body.current_password, request.body.new_password),
          () => ({ userId: session.userId }),
        );
      };
      if (isFormPost(request)) {
        return answerForm(reply, deps.site, work, (site) =>
          renderMessagePage(site, 'Password changed', passwordChangedMessage),
        );
      }
      await work();
      return { message: passwordChangedMessage };
    },
  );

  app.post(
    '/me/locale',
    {
      schema: {
        summary: "Choose the account's language: its pages and every email queued from now on use it",
        tags: ['account'],
        operationId: 'changeAccountLocale',
        security: answers.sessionSecurity,
        body: Type.Object({
          locale: Type.Union(
            supportedLocales.map((locale) => Type.Literal(locale)),
            { description: 'A supported language; any other value is refused, nothing changed' },
          ),
        }),
        response: {
          ...answers.post,
          200: Type.Object({ locale: Type.Union(supportedLocales.map((locale) => Type.Literal(locale))) }),
          401: notAuthenticatedAnswer,
          415: answers.jsonOnly,
          422: answers.error('`invalid_request`: `locale` is missing or names no supported language'),
        },
      },
      // The account page has its own form route (POST /account/locale); this one takes JSON only.
      preHandler: requireJsonBody,
    },
    async (request) => {
      const session = await requireSession(deps.account, request);
      await changeAccountLocale(deps.account, session.userId, request.body.locale);
      return { locale: request.body.locale };
    },
  );

  app.get(
    '/me/sessions',
    {
      schema: {
        summary: 'The live sessions of the account: when and where they began, when they were last used',
        tags: ['account'],
        operationId: 'listSessions',
        security: answers.sessionSecurity,
        response: { ...answers.service, 200: SessionList, 401: notAuthenticatedAnswer },
      },
    },
    async (request) => {
      const session = await requireSession(deps.account, request);
      const sessions = await listSessions(deps.account, session);
      return sessions.map((view) => ({ ...sessionBody(view), current: view.current }));
    },
  );

  app.delete(
    '/me/sessions/:id',
    {
      schema: {
        summary: 'End one session of the account by its id (its token is refused from now on)',
        tags: ['account'],
        operationId: 'endSession',
        security: answers.sessionSecurity,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: {
          ...answers.service,
          204: answers.noContent('Ended: its next request, on any instance, is 401'),
          401: notAuthenticatedAnswer,
          403: answers.post[403],
          404: answers.error('`session_not_found`: no live session of this account has that id'),
          422: answers.error('`invalid_request`: the id is over 64 characters'),
        },
      },
    },
    async (request, reply) => {
      const session = await requireSession(deps.account, request);
      await endSession(deps.account, session, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/me/sessions',
    {
      schema: {
        summary: 'End every session of the account but this one',
        tags: ['account'],
        operationId: 'endOtherSessions',
        security: answers.sessionSecurity,
        response: {
          ...answers.service,
          204: answers.noContent('Every other session ended: their next request, on any instance, is 401'),
          401: notAuthenticatedAnswer,
          403: answers.post[403],
        },
      },
    },
    async (request, reply) => {
      const session = await requireSession(deps.account, request);
      await endOtherSessions(deps.account, session);
      return reply.status(204).send(null);
    },
  );
}
