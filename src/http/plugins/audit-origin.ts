import type { FastifyInstance } from 'fastify';
import { runWithAuditOrigin } from '../../flows/audit.ts';

/**
 * Every request's handler runs with its origin (client address as TRUST_PROXY resolves it, User-Agent,
 * request id; the owner as actor until an admin key says otherwise), so the flows record it with each audit
 * event without any route or flow passing it along. Set in preHandler, after the body is read: the body's
 * stream events would not carry it from an earlier hook.
 */
export function registerAuditOrigin(app: FastifyInstance): void {
  app.addHook('preHandler', (request, _reply, done) => {
    runWithAuditOrigin(
      {
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        requestId: request.id,
        actor: 'self',
      },
      done,
    );
  });
}
