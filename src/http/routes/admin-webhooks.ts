import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { listWebhookDeliveries } from '../../flows/webhooks-admin.ts';
import type { HttpDeps } from '../route-deps.ts';
import {
  adminSecurity,
  authAnswers,
  createAdminAuthenticator,
  Cursor,
  Limit,
  NullableDate,
  NullableString,
  tags,
} from './admin.ts';

const statuses = ['pending', 'delivered', 'abandoned'] as const;

/** The operators' view of the webhook deliveries (admin key required). */
export function registerAdminWebhookRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const admin = createAdminAuthenticator(deps);

  app.get(
    '/admin/webhooks/deliveries',
    {
      schema: {
        summary: 'Webhook deliveries, oldest first: endpoint host, event type, status, attempts, last error',
        description:
          '`pending` deliveries wait for their next attempt (or are being attempted), `delivered` got a 2xx, `abandoned` failed for 3 days or went to an endpoint that answered 410 Gone. Never the body.',
        tags,
        operationId: 'adminListWebhookDeliveries',
        security: adminSecurity,
        querystring: Type.Object({
          status: Type.Optional(Type.String({ enum: [...statuses] })),
          cursor: Type.Optional(Cursor),
          limit: Type.Optional(Limit),
        }),
        response: {
          ...authAnswers,
          200: Type.Object({
            deliveries: Type.Array(
              Type.Object({
                id: Type.String({ format: 'uuid' }),
                webhook_id: Type.String({
                  description: 'The `webhook-id` header, the same at every attempt',
                }),
                endpoint_host: Type.String(),
                event_type: Type.String(),
                status: Type.String({ enum: [...statuses] }),
                attempts: Type.Integer({ minimum: 0 }),
                last_error: NullableString('The last failure (`answered 500`, a connection error …)'),
                created_at: Type.String({ format: 'date-time' }),
                next_attempt_at: Type.String({ format: 'date-time' }),
                delivered_at: NullableDate('When a 2xx answered it'),
              }),
            ),
            next_cursor: NullableString('Pass as `cursor` for the next page; null only when nothing follows'),
          }),
        },
      },
    },
    async (request) => {
      const { status, cursor, limit } = request.query;
      const page = await listWebhookDeliveries(await admin(request), {
        ...(status === undefined ? {} : { status: status as (typeof statuses)[number] }),
        ...(cursor === undefined ? {} : { cursor }),
        ...(limit === undefined ? {} : { limit: Number(limit) }),
      });
      return {
        deliveries: page.deliveries.map((delivery) => ({
          id: delivery.id,
          webhook_id: delivery.webhookId,
          endpoint_host: delivery.endpointHost,
          event_type: delivery.eventType,
          status: delivery.status,
          attempts: delivery.attempts,
          last_error: delivery.lastError,
          created_at: delivery.createdAt.toISOString(),
          next_attempt_at: delivery.nextAttemptAt.toISOString(),
          delivered_at: delivery.deliveredAt?.toISOString() ?? null,
        })),
        next_cursor: page.nextCursor,
      };
    },
  );
}
