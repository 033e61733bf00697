import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminContext } from '../../flows/admin-context.ts';
import { authenticateAdminKey } from '../../flows/admin-keys.ts';
import { isWellFormedId } from '../../flows/admin-paging.ts';
import { recordAdminKeyRefusal, recordAdminRequestFailure } from '../../flows/admin-requests.ts';
import { listAuditEvents, listOutboxEmails } from '../../flows/admin-records.ts';
import {
  deleteUser,
  endUserSessionForAdmin,
  listUserSessionsForAdmin,
  restoreDeletedUser,
  disableUser,
  enableUser,
  findUserByEmail,
  listUsers,
  logOutUser,
  resendUserVerification,
  sendUserPasswordReset,
  showUser,
  type UserSummary,
} from '../../flows/admin-users.ts';
import {
  assignAuditActor,
  auditEventNames,
  runWithAuditOrigin,
  type AuditActor,
  type AuditOrigin,
} from '../../flows/audit.ts';
import { errorCodes, FlowError } from '../../flows/errors.ts';
import type { AdminKey } from '../../flows/ports.ts';
import { answeredErrorCodeOf } from '../plugins/errors.ts';
import { limitRefusalsByClientIp } from '../plugins/rate-limit.ts';
import type { HttpDeps } from '../route-deps.ts';
import { logSecurityEvent } from '../security-log.ts';
import * as answers from '../answers.ts';
import { MessageResponse } from '../schemas.ts';
import { sessionBody, sessionFields } from './me.ts';

/** The admin key as a bearer token: nothing else, no cookie. */
export const adminSecurity: Record<string, string[]>[] = [{ adminKey: [] }];
export const tags = ['admin'];

export const NullableDate = (description: string) =>
  Type.Unsafe<string | null>({ type: 'string', format: 'date-time', nullable: true, description });
export const NullableString = (description: string) =>
  Type.Unsafe<string | null>({ type: 'string', nullable: true, description });

const UserSummarySchema = {
  id: Type.String({ format: 'uuid' }),
  email: Type.String({ description: 'The address as typed at registration (or the last email change)' }),
  is_verified: Type.Boolean(),
  is_active: Type.Boolean({ description: 'False while an operator has disabled the account' }),
  created_at: Type.String({ format: 'date-time' }),
  deleted_at: NullableDate('When the account was deleted; it is removed for good after the grace period'),
};
const UserPage = Type.Object({
  users: Type.Array(Type.Object(UserSummarySchema)),
  next_cursor: NullableString('Pass as `cursor` for the next page; null only when nothing follows'),
});
const UserDetails = Type.Object({
  ...UserSummarySchema,
  last_login_at: NullableDate('The last successful login the audit trail holds'),
  session_count: Type.Integer({ minimum: 0, description: 'Live sessions' }),
  pending_email_change: NullableString('The new address an email change awaits confirmation from'),
  pending_deletion: Type.Boolean({ description: 'Deleted, within the grace period (restorable)' }),
});
export const Limit = Type.String({
  pattern: '^(100|[1-9][0-9]?)$',
  description: 'Rows per page, 1 to 100 (50 unless given)',
});
export const Cursor = Type.String({ maxLength: 200, description: 'The `next_cursor` of the previous page' });
const UserIdParams = Type.Object({
  id: Type.String({ maxLength: 64, description: 'The account id (UUID)' }),
});

export const authAnswers = {
  ...answers.service,
  400: answers.error('`invalid_cursor`, or `malformed_id`: the id is not a UUID'),
  401: answers.error('`admin_key_required`: no `Authorization: Bearer` header'),
  403: answers.error('`admin_key_refused`: not a live admin key (wrong, revoked, or a session token)'),
  429: answers.error(
    '`rate_limited`: too many refused admin keys from this client (`ip.admin`); every call is refused until the window ends',
    { retryAfter: true },
  ),
  422: answers.error('`invalid_request`: a query parameter is out of bounds'),
};
const userAnswers = {
  ...authAnswers,
  404: answers.error('`user_not_found`: no account has that id'),
};

function userSummaryBody(user: UserSummary) {
  return {
    id: user.id,
    email: user.email,
    is_verified: user.isVerified,
    is_active: user.isActive,
    created_at: user.createdAt.toISOString(),
    deleted_at: user.deletedAt?.toISOString() ?? null,
  };
}

function isRefusedAdminKey(error: unknown): error is FlowError {
  return (
    error instanceof FlowError && (error.code === 'admin_key_required' || error.code === 'admin_key_refused')
  );
}

/** The admin key each request under /admin/ was accepted with, set before its body or schema is looked at. */
const acceptedAdminKeys = new WeakMap<FastifyRequest, AdminKey>();

/**
 * Whether a request belongs to the admin API: its route's pattern, or (no route matched, a 404) its path, is
 * `/admin` or under `/admin/`. Routes added in any file are covered by their path alone.
 */
function isAdminRequest(request: FastifyRequest): boolean {
  const path = request.routeOptions.url ?? request.url.split('?', 1)[0] ?? '';
  return path === '/admin' || path.startsWith('/admin/');
}

function auditOriginOf(request: FastifyRequest, actor: AuditActor): AuditOrigin {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, requestId: request.id, actor };
}

/** The account a failed call named: `/admin/users/:id…` with a well-formed id; null otherwise. */
function namedUserIdOf(request: FastifyRequest): string | null {
  if (request.routeOptions.url?.startsWith('/admin/users/:id') !== true) return null;
  const id = (request.params as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && isWellFormedId(id) ? id : null;
}

/**
 * Every request under /admin/ meets its admin key first, before its body is read or its schema checked, so
 * every answer it gets afterwards (a 400 of the schema, a 404 of an unknown route or account) is that key's
 * call, and is audited: an accepted key's failed call writes one `admin_request` row (its successes write
 * their own event), a refused key one `admin_key_refused` row. The refused rows are bounded by `ip.admin`:
 * the point is spent before the key is checked and given back only for an accepted key.
 * An audit write that fails (the database is down) is logged and never changes the answer.
 */
function registerAdminKeyCheck(app: FastifyInstance, deps: HttpDeps): void {
  const refusals = limitRefusalsByClientIp(deps.clientIpLimiters.admin, 'admin');

  app.addHook('onRequest', async (request, reply) => {
    if (!isAdminRequest(request)) return;
    if (await refusals.check(request, reply)) return reply;
    let adminKey: AdminKey;
    try {
      adminKey = await authenticateAdminKey(deps.admin, request.headers.authorization);
    } catch (error) {
      if (!isRefusedAdminKey(error)) {
        await refusals.refund(request);
        throw error;
      }
      logSecurityEvent(request, 'admin_refused', { outcome: error.code });
      const failure = { code: error.code, statusCode: errorCodes[error.code].status };
      await runWithAuditOrigin(auditOriginOf(request, 'unknown'), () =>
        recordAdminKeyRefusal(deps.admin, failure),
      ).catch((writeError: unknown) => {
        request.log.warn({ err: writeError }, 'the refused admin key could not be audited');
      });
      throw error;
    }
    await refusals.refund(request);
    acceptedAdminKeys.set(request, adminKey);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const adminKey = acceptedAdminKeys.get(request);
    if (adminKey === undefined || reply.statusCode < 400) return payload;
    const failure = { code: answeredErrorCodeOf(reply) ?? 'unknown', statusCode: reply.statusCode };
    await runWithAuditOrigin(auditOriginOf(request, `admin:${adminKey.id}`), () =>
      recordAdminRequestFailure(deps.admin, failure, namedUserIdOf(request)),
    ).catch((writeError: unknown) => {
      request.log.warn({ err: writeError }, 'the failed admin call could not be audited');
    });
    return payload;
  });
}

/**
 * The admin context of a request under /admin/, whose key the admin hooks accepted before the route ran (a
 * refused key never reaches the route): audit events recorded from here on name the key as their actor.
 */
export function createAdminAuthenticator(deps: HttpDeps): (request: FastifyRequest) => Promise<AdminContext> {
  return async (request) => {
    const adminKey = acceptedAdminKeys.get(request);
    if (adminKey === undefined) {
      // Only a route outside /admin/ can get here: it would run without any key check, so it never runs.
      throw new Error(`${request.routeOptions.url ?? request.url} is an admin route outside /admin/`);
    }
    assignAuditActor(`admin:${adminKey.id}`);
    return deps.admin;
  };
}

/** The operators' API: every route needs an admin key (`npm run admin -- key create`). */
export function registerAdminRoutes(root: FastifyInstance, deps: HttpDeps): void {
  registerAdminKeyCheck(root, deps);
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const admin = createAdminAuthenticator(deps);

  app.get(
    '/admin/users',
    {
      schema: {
        summary: 'Find an account by address, or page through every account (by creation, oldest first)',
        description:
          '`email` looks one address up exactly, normalised as login does (0 or 1 result). Otherwise every account, `q` keeping those whose address contains it (case-insensitive substring), `limit` at a time; follow `next_cursor` to the end.',
        tags,
        operationId: 'adminListUsers',
        security: adminSecurity,
        querystring: Type.Object({
          email: Type.Optional(Type.String({ maxLength: 254 })),
          q: Type.Optional(Type.String({ maxLength: 254 })),
          cursor: Type.Optional(Cursor),
          limit: Type.Optional(Limit),
        }),
        response: { ...authAnswers, 200: UserPage },
      },
    },
    async (request) => {
      const context = await admin(request);
      const { email, q, cursor, limit } = request.query;
      const page =
        email !== undefined
          ? await findUserByEmail(context, email)
          : await listUsers(context, {
              ...(q === undefined ? {} : { containing: q }),
              ...(cursor === undefined ? {} : { cursor }),
              ...(limit === undefined ? {} : { limit: Number(limit) }),
            });
      return { users: page.users.map(userSummaryBody), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/admin/users/:id/sessions',
    {
      schema: {
        summary: "The account's live sessions: when and where each began, when it was last used",
        tags,
        operationId: 'adminListUserSessions',
        security: adminSecurity,
        params: UserIdParams,
        response: {
          ...userAnswers,
          200: Type.Object({
            sessions: Type.Array(Type.Object(sessionFields), {
              description: 'The most recently used first; the same ids as the owner sees in GET /me/sessions',
            }),
          }),
        },
      },
    },
    async (request) => {
      const sessions = await listUserSessionsForAdmin(await admin(request), request.params.id);
      return { sessions: sessions.map(sessionBody) };
    },
  );

  app.delete(
    '/admin/users/:id/sessions/:sessionId',
    {
      schema: {
        summary: 'End one session of the account (and its refresh tokens): its next request is 401',
        tags,
        operationId: 'adminEndUserSession',
        security: adminSecurity,
        params: Type.Object({ ...UserIdParams.properties, sessionId: Type.String({ maxLength: 64 }) }),
        response: {
          ...userAnswers,
          204: answers.noContent('Ended, on every instance'),
          404: answers.error(
            '`user_not_found`: no such account; `session_not_found`: no live session of this account has that id',
          ),
        },
      },
    },
    async (request, reply) => {
      await endUserSessionForAdmin(await admin(request), request.params.id, request.params.sessionId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/admin/users/:id',
    {
      schema: {
        summary: 'One account: state, last login, live sessions, pending email change or deletion',
        tags,
        operationId: 'adminShowUser',
        security: adminSecurity,
        params: UserIdParams,
        response: { ...userAnswers, 200: UserDetails },
      },
    },
    async (request) => {
      const user = await showUser(await admin(request), request.params.id);
      return {
        ...userSummaryBody(user),
        last_login_at: user.lastLoginAt?.toISOString() ?? null,
        session_count: user.sessionCount,
        pending_email_change: user.pendingEmailChange,
        pending_deletion: user.deletedAt !== null,
      };
    },
  );

  const actions = [
    {
      path: 'disable',
      operationId: 'adminDisableUser',
      summary: 'Disable the account: every session ends at once, login answers 403 `account_disabled`',
      status: 204,
      message: '',
      run: disableUser,
    },
    {
      path: 'enable',
      operationId: 'adminEnableUser',
      summary: 'Enable a disabled account: its owner can log in again',
      status: 204,
      message: '',
      run: enableUser,
    },
    {
      path: 'logout',
      operationId: 'adminLogOutUser',
      summary: 'End every session of the account',
      status: 204,
      message: '',
      run: logOutUser,
    },
    {
      path: 'resend-verification',
      operationId: 'adminResendVerification',
      summary: 'Email the owner a fresh verification link (409 `already_verified` if verified)',
      status: 202,
      message: 'A verification link is on its way to the owner',
      run: resendUserVerification,
    },
    {
      path: 'password-reset',
      operationId: 'adminSendPasswordReset',
      summary: 'Email the owner a password reset link; no route sets or reveals a password',
      status: 202,
      message: 'A password reset link is on its way to the owner',
      run: sendUserPasswordReset,
    },
    {
      path: 'restore',
      operationId: 'adminRestoreUser',
      summary:
        'Bring back an account deleted during its grace period (as its restore link would); its sessions stay ended',
      status: 204,
      message: '',
      run: restoreDeletedUser,
    },
  ] as const;
  for (const action of actions) {
    app.post(
      `/admin/users/:id/${action.path}`,
      {
        schema: {
          summary: action.summary,
          tags,
          operationId: action.operationId,
          security: adminSecurity,
          params: UserIdParams,
          response: {
            ...userAnswers,
            ...(action.path === 'resend-verification' && {
              409: answers.error('`already_verified`: the address is verified (or the account deleted)'),
            }),
            [action.status]:
              action.status === 204
                ? answers.noContent('Done')
                : { ...MessageResponse, description: 'Queued: the email is on its way' },
          },
        },
      },
      async (request, reply) => {
        await action.run(await admin(request), request.params.id);
        return action.status === 204
          ? reply.status(204).send(null)
          : reply.status(action.status).send({ message: action.message });
      },
    );
  }

  app.delete(
    '/admin/users/:id',
    {
      schema: {
        summary:
          'Delete the account as its owner would: sessions end, a restore link goes out for the grace period',
        tags,
        operationId: 'adminDeleteUser',
        security: adminSecurity,
        params: UserIdParams,
        response: {
          ...userAnswers,
          202: {
            ...MessageResponse,
            description:
              'Deleted; removed for good after ACCOUNT_DELETION_GRACE_DAYS unless its owner restores it',
          },
        },
      },
    },
    async (request, reply) => {
      await deleteUser(await admin(request), request.params.id);
      return reply
        .status(202)
        .send({ message: 'Deleted: the owner can restore it with the emailed link during the grace period' });
    },
  );

  app.get(
    '/admin/outbox',
    {
      schema: {
        summary: 'Mail not sent yet or given up on: recipient domain, template, attempts, last error',
        description: 'Never the address, the message or its link.',
        tags,
        operationId: 'adminListOutbox',
        security: adminSecurity,
        querystring: Type.Object({
          status: Type.Optional(
            Type.Union([Type.Literal('queued'), Type.Literal('retrying'), Type.Literal('abandoned')]),
          ),
          cursor: Type.Optional(Cursor),
          limit: Type.Optional(Limit),
        }),
        response: {
          ...authAnswers,
          200: Type.Object({
            emails: Type.Array(
              Type.Object({
                id: Type.String({ format: 'uuid' }),
                recipient_domain: Type.String(),
                template: Type.String(),
                status: Type.String({ enum: ['queued', 'retrying', 'abandoned'] }),
                attempts: Type.Integer({ minimum: 0 }),
                last_error: NullableString('The last failure, with any address reduced to its domain'),
                created_at: Type.String({ format: 'date-time' }),
                next_attempt_at: Type.String({ format: 'date-time' }),
              }),
            ),
            next_cursor: NullableString('Pass as `cursor` for the next page; null only when nothing follows'),
          }),
        },
      },
    },
    async (request) => {
      const { status, cursor, limit } = request.query;
      const page = await listOutboxEmails(await admin(request), {
        ...(status === undefined ? {} : { status }),
        ...(cursor === undefined ? {} : { cursor }),
        ...(limit === undefined ? {} : { limit: Number(limit) }),
      });
      return {
        emails: page.emails.map((email) => ({
          id: email.id,
          recipient_domain: email.recipientDomain,
          template: email.template,
          status: email.status,
          attempts: email.attempts,
          last_error: email.lastError,
          created_at: email.createdAt.toISOString(),
          next_attempt_at: email.nextAttemptAt.toISOString(),
        })),
        next_cursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/admin/audit',
    {
      schema: {
        summary: 'The audit trail, oldest first: who did what to which account, from where',
        tags,
        operationId: 'adminListAuditEvents',
        security: adminSecurity,
        querystring: Type.Object({
          user_id: Type.Optional(Type.String({ maxLength: 64 })),
          event: Type.Optional(Type.String({ enum: [...auditEventNames] })),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          cursor: Type.Optional(Cursor),
          limit: Type.Optional(Limit),
        }),
        response: {
          ...authAnswers,
          200: Type.Object({
            events: Type.Array(
              Type.Object({
                id: Type.String({ format: 'uuid' }),
                occurred_at: Type.String({ format: 'date-time' }),
                event: Type.String({ enum: [...auditEventNames] }),
                outcome: Type.String({
                  description:
                    '`success`, the error code of a refusal, or `failure:<status>:<code>` (`admin_request`, `admin_key_refused`)',
                }),
                user_id: NullableString('The account, when known'),
                ip: NullableString('The client address, as TRUST_PROXY resolves it'),
                user_agent: NullableString('The User-Agent header, at most 256 characters'),
                actor: Type.String({
                  description:
                    '`self`, `admin:<key id>`, `cli`, `system`, or `unknown` (a refused admin key)',
                }),
                request_id: NullableString('The request id of the log lines'),
              }),
            ),
            next_cursor: NullableString('Pass as `cursor` for the next page; null only when nothing follows'),
          }),
        },
      },
    },
    async (request) => {
      const { user_id: userId, event, since, cursor, limit } = request.query;
      const page = await listAuditEvents(await admin(request), {
        ...(userId === undefined ? {} : { userId }),
        ...(event === undefined ? {} : { event }),
        ...(since === undefined ? {} : { since: new Date(since) }),
        ...(cursor === undefined ? {} : { cursor }),
        ...(limit === undefined ? {} : { limit: Number(limit) }),
      });
      return {
        events: page.events.map((row) => ({
          id: row.id,
          occurred_at: row.occurredAt.toISOString(),
          event: row.event,
          outcome: row.outcome,
          user_id: row.userId,
          ip: row.ip,
          user_agent: row.userAgent,
          actor: row.actor,
          request_id: row.requestId,
        })),
        next_cursor: page.nextCursor,
      };
    },
  );
}
