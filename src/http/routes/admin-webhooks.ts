import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { listWebhookDeliveries } from '../../flows/webhooks-admin.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  disableWebhookEndpoint,
  enableWebhookEndpoint,
  listWebhookEndpoints,
  retryWebhookDelivery,
  rotateWebhookEndpointSecret,
  showWebhookEndpoint,
  updateWebhookEndpoint,
  type WebhookEndpointView,
} from '../../flows/webhooks-endpoints.ts';
import { webhookEventTypes } from '../../flows/webhooks.ts';
import * as answers from '../answers.ts';
import { MessageResponse } from '../schemas.ts';
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

const EventTypes = Type.Array(Type.String({ enum: [...webhookEventTypes] }), {
  description: 'The event types sent to it; empty: every type',
});
// Checked by the flow rather than the schema, so that an unknown type is answered with its own code.
const EventTypesInput = Type.Array(Type.String({ maxLength: 100 }), {
  maxItems: 50,
  description: `The event types to send to it (${webhookEventTypes.join(', ')}); empty or absent: every type`,
});
const Endpoint = Type.Object({
  id: Type.String({ description: 'A UUID, or `env_…` for an endpoint of WEBHOOK_URLS' }),
  source: Type.String({
    enum: ['api', 'env'],
    description: '`env`: from WEBHOOK_URLS, read-only (only `enable` applies)',
  }),
  url: Type.String(),
  description: Type.String(),
  event_types: EventTypes,
  enabled: Type.Boolean(),
  disabled_reason: Type.Unsafe<'gone' | 'operator' | null>({
    type: 'string',
    // null in the enum too: with `nullable`, OpenAPI 3.0 validators still check a null against the enum.
    enum: ['gone', 'operator', null],
    nullable: true,
    description: '`gone`: it answered 410 Gone; `operator`: disabled through the API or CLI',
  }),
  disabled_at: NullableDate('When it was disabled'),
  previous_secret_expires_at: NullableDate(
    'Until when the secret before the last rotation still signs (every attempt carries both signatures)',
  ),
  created_at: NullableDate('Null for an env endpoint'),
});
const EndpointWithSecret = Type.Object({
  endpoint: Endpoint,
  secret: Type.String({
    pattern: '^whsec_',
    description: 'The signing secret (Standard Webhooks `whsec_`): shown this once, never again',
  }),
});
const EndpointParams = Type.Object({
  id: Type.String({ maxLength: 64, description: 'The endpoint id (UUID, or `env_…`)' }),
});
const endpointUrlAnswers = {
  ...authAnswers,
  400: answers.error(
    '`invalid_webhook_url`: not an absolute http(s) URL without credentials; `webhook_target_private`: a loopback, private or single-label host while WEBHOOK_ALLOW_PRIVATE is false; `unknown_webhook_event_type`',
  ),
};
const endpointAnswers = {
  ...authAnswers,
  404: answers.error('`webhook_endpoint_not_found`: no endpoint has that id'),
  409: answers.error(
    '`webhook_endpoint_read_only`: an endpoint of WEBHOOK_URLS (change the environment instead)',
  ),
};

function endpointBody(endpoint: WebhookEndpointView) {
  return {
    id: endpoint.id,
    source: endpoint.source,
    url: endpoint.url,
    description: endpoint.description,
    event_types: [...endpoint.eventTypes],
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabledReason,
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt?.toISOString() ?? null,
    created_at: endpoint.createdAt?.toISOString() ?? null,
  };
}

/** The operators' webhook endpoints and deliveries (admin key required). */
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
                endpoint_id: NullableString('The managed endpoint; null for one of WEBHOOK_URLS'),
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
          endpoint_id: delivery.endpointId,
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

  app.post(
    '/admin/webhooks/deliveries/:id/retry',
    {
      schema: {
        summary: 'Queue an abandoned delivery again, due now, with the same webhook-id',
        tags,
        operationId: 'adminRetryWebhookDelivery',
        security: adminSecurity,
        params: Type.Object({ id: Type.String({ maxLength: 64, description: 'The delivery id (UUID)' }) }),
        response: {
          ...authAnswers,
          202: MessageResponse,
          404: answers.error('`webhook_delivery_not_found`: no delivery has that id'),
          409: answers.error(
            '`webhook_delivery_not_abandoned`: it still waits or was delivered; `webhook_endpoint_disabled`: its endpoint is disabled or gone',
          ),
        },
      },
    },
    async (request, reply) => {
      await retryWebhookDelivery(await admin(request), request.params.id);
      return reply.status(202).send({ message: 'Queued again' });
    },
  );

  app.get(
    '/admin/webhooks/endpoints',
    {
      schema: {
        summary: 'Every webhook endpoint: those of WEBHOOK_URLS (read-only), then the managed ones',
        description: 'Never a secret: it is shown once, at creation and at rotation.',
        tags,
        operationId: 'adminListWebhookEndpoints',
        security: adminSecurity,
        response: { ...authAnswers, 200: Type.Object({ endpoints: Type.Array(Endpoint) }) },
      },
    },
    async (request) => {
      const endpoints = await listWebhookEndpoints(await admin(request));
      return { endpoints: endpoints.map(endpointBody) };
    },
  );

  app.post(
    '/admin/webhooks/endpoints',
    {
      schema: {
        summary: 'Create an endpoint; its signing secret is in the answer, this once',
        description:
          'Events are queued for it from the next change on, for the types of `event_types` (every type when empty or absent).',
        tags,
        operationId: 'adminCreateWebhookEndpoint',
        security: adminSecurity,
        body: Type.Object(
          {
            url: Type.String({ maxLength: 2000, description: 'An absolute `https:` (or `http:`) URL' }),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            event_types: Type.Optional(EventTypesInput),
          },
          { additionalProperties: false },
        ),
        response: { ...endpointUrlAnswers, 201: EndpointWithSecret },
      },
    },
    async (request, reply) => {
      const { url, description, event_types: eventTypes } = request.body;
      const created = await createWebhookEndpoint(await admin(request), {
        url,
        ...(description === undefined ? {} : { description }),
        ...(eventTypes === undefined ? {} : { eventTypes }),
      });
      return reply.status(201).send({ endpoint: endpointBody(created.endpoint), secret: created.secret });
    },
  );

  app.get(
    '/admin/webhooks/endpoints/:id',
    {
      schema: {
        summary: 'One webhook endpoint',
        tags,
        operationId: 'adminShowWebhookEndpoint',
        security: adminSecurity,
        params: EndpointParams,
        response: { ...endpointAnswers, 200: Endpoint },
      },
    },
    async (request) => endpointBody(await showWebhookEndpoint(await admin(request), request.params.id)),
  );

  app.patch(
    '/admin/webhooks/endpoints/:id',
    {
      schema: {
        summary: "Change a managed endpoint's URL, description or event types",
        description: 'Deliveries queued already keep the URL they were queued for.',
        tags,
        operationId: 'adminUpdateWebhookEndpoint',
        security: adminSecurity,
        params: EndpointParams,
        body: Type.Object(
          {
            url: Type.Optional(Type.String({ maxLength: 2000 })),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            event_types: Type.Optional(EventTypesInput),
          },
          { additionalProperties: false },
        ),
        response: { ...endpointAnswers, 400: endpointUrlAnswers[400], 200: Endpoint },
      },
    },
    async (request) => {
      const { url, description, event_types: eventTypes } = request.body;
      const endpoint = await updateWebhookEndpoint(await admin(request), request.params.id, {
        ...(url === undefined ? {} : { url }),
        ...(description === undefined ? {} : { description }),
        ...(eventTypes === undefined ? {} : { eventTypes }),
      });
      return endpointBody(endpoint);
    },
  );

  app.delete(
    '/admin/webhooks/endpoints/:id',
    {
      schema: {
        summary: 'Delete a managed endpoint; what waits for it is abandoned',
        tags,
        operationId: 'adminDeleteWebhookEndpoint',
        security: adminSecurity,
        params: EndpointParams,
        response: { ...endpointAnswers, 204: answers.noContent('Deleted; what waited for it is abandoned') },
      },
    },
    async (request, reply) => {
      await deleteWebhookEndpoint(await admin(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  const endpointActions = [
    {
      path: 'enable',
      operationId: 'adminEnableWebhookEndpoint',
      summary: 'Send to the endpoint again, after a 410 Gone or a disable (env endpoints too)',
      run: enableWebhookEndpoint,
    },
    {
      path: 'disable',
      operationId: 'adminDisableWebhookEndpoint',
      summary: 'Stop sending to a managed endpoint; what waits for it is abandoned',
      run: disableWebhookEndpoint,
    },
  ] as const;
  for (const action of endpointActions) {
    app.post(
      `/admin/webhooks/endpoints/:id/${action.path}`,
      {
        schema: {
          summary: action.summary,
          tags,
          operationId: action.operationId,
          security: adminSecurity,
          params: EndpointParams,
          response: { ...endpointAnswers, 200: Endpoint },
        },
      },
      async (request) => endpointBody(await action.run(await admin(request), request.params.id)),
    );
  }

  app.post(
    '/admin/webhooks/endpoints/:id/rotate-secret',
    {
      schema: {
        summary: 'A new signing secret, in the answer this once; the previous one keeps signing for 24 hours',
        description:
          'Until `previous_secret_expires_at` every attempt carries two signatures (`v1,<new> v1,<previous>`), so a receiver can switch without losing an event.',
        tags,
        operationId: 'adminRotateWebhookEndpointSecret',
        security: adminSecurity,
        params: EndpointParams,
        response: { ...endpointAnswers, 200: EndpointWithSecret },
      },
    },
    async (request) => {
      const rotated = await rotateWebhookEndpointSecret(await admin(request), request.params.id);
      return { endpoint: endpointBody(rotated.endpoint), secret: rotated.secret };
    },
  );
}
