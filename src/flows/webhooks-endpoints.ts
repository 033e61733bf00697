import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isPrivateAddress } from '../security/network-address.ts';
import type { AdminContext } from './admin-context.ts';
import { isWellFormedId } from './admin-paging.ts';
import { completeAuditEvent, type AuditEventName, type AuditRecord } from './audit.ts';
import { FlowError } from './errors.ts';
import {
  webhookEventTypes,
  type WebhookEndpoint,
  type WebhookEndpointChanges,
  type WebhookEndpointDisabledReason,
} from './webhooks.ts';

/** How long the secret before a rotation keeps signing: receivers have a day to switch to the new one. */
export const previousWebhookSecretLifetimeSeconds = 24 * 60 * 60;
const webhookSecretBytes = 32;
const descriptionMaxLength = 500;
const urlMaxLength = 2000;

/** One endpoint as operators see it: a managed one (`api`) or one of WEBHOOK_URLS (`env`, read-only). */
export interface WebhookEndpointView {
  readonly id: string;
  readonly source: 'api' | 'env';
  readonly url: string;
  readonly description: string;
  /** Empty: every event type. */
  readonly eventTypes: readonly string[];
  readonly enabled: boolean;
  readonly disabledReason: WebhookEndpointDisabledReason | null;
  readonly disabledAt: Date | null;
  readonly previousSecretExpiresAt: Date | null;
  /** Null for an env endpoint. */
  readonly createdAt: Date | null;
}

/** The endpoint and its `whsec_` secret, shown this once (at creation or rotation) and never again. */
export interface WebhookEndpointWithSecret {
  readonly endpoint: WebhookEndpointView;
  readonly secret: string;
}

/** The id of an env endpoint: stable for its URL, so a changed WEBHOOK_URLS order changes no id. */
export function identifyEnvWebhookEndpoint(url: string): string {
  return `env_${createHash('sha256').update(url).digest('hex').slice(0, 24)}`;
}

function viewOfManaged(endpoint: WebhookEndpoint): WebhookEndpointView {
  return { ...endpoint, source: 'api', enabled: endpoint.disabledAt === null };
}

function createWebhookSecret(): string {
  return `whsec_${randomBytes(webhookSecretBytes).toString('base64')}`;
}

function auditOf(context: AdminContext, event: AuditEventName, subjectId: string): AuditRecord {
  return completeAuditEvent({ event, outcome: subjectId, userId: null }, context.account.clock.now());
}

/**
 * The URL as given, if a receiver may have it: absolute http(s), no credentials (they would be logged and
 * listed), and, unless WEBHOOK_ALLOW_PRIVATE, no loopback, private or link-local address nor `localhost`. A
 * name that resolves to such an address is refused at each attempt instead (attempt.ts).
 */
function checkWebhookUrl(context: AdminContext, url: unknown): string {
  if (typeof url !== 'string' || url.length > urlMaxLength) throw new FlowError('invalid_webhook_url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FlowError('invalid_webhook_url');
  }
  if (
    (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') ||
    parsed.username !== '' ||
    parsed.password !== '' ||
    parsed.hostname === ''
  )
    throw new FlowError('invalid_webhook_url');
  if (!context.webhookSettings.allowPrivateTargets) {
    const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const privateHost =
      isIP(host) !== 0
        ? isPrivateAddress(host)
        : host === 'localhost' || host.endsWith('.localhost') || !host.includes('.');
    if (privateHost) throw new FlowError('webhook_target_private');
  }
  return url;
}

function checkEventTypes(eventTypes: readonly string[] | undefined): readonly string[] {
  const types = [...new Set(eventTypes ?? [])];
  const unknown = types.find((type) => !(webhookEventTypes as readonly string[]).includes(type));
  if (unknown !== undefined)
    throw new FlowError(
      'unknown_webhook_event_type',
      `Unknown webhook event type "${unknown}"; known: ${webhookEventTypes.join(', ')}`,
    );
  return types;
}

function checkDescription(description: string | undefined): string {
  const trimmed = (description ?? '').trim();
  if (trimmed.length > descriptionMaxLength)
    throw new FlowError(
      'invalid_request',
      `The description must be at most ${String(descriptionMaxLength)} characters`,
    );
  return trimmed;
}

async function listEnvEndpoints(context: AdminContext): Promise<WebhookEndpointView[]> {
  const disabled = new Map(
    (await context.webhookEndpoints.listDisabledEnvWebhookEndpoints()).map((entry) => [entry.url, entry]),
  );
  return context.webhookSettings.envUrls.map((url) => {
    const gone = disabled.get(url);
    return {
      id: identifyEnvWebhookEndpoint(url),
      source: 'env',
      url,
      description: 'WEBHOOK_URLS',
      eventTypes: [],
      enabled: gone === undefined,
      disabledReason: gone === undefined ? null : 'gone',
      disabledAt: gone?.disabledAt ?? null,
      previousSecretExpiresAt: null,
      createdAt: null,
    };
  });
}

/** The managed endpoint `id`, or `webhook_endpoint_not_found`; an env id is `webhook_endpoint_read_only`. */
function requireManagedId(context: AdminContext, id: string): string {
  if (context.webhookSettings.envUrls.some((url) => identifyEnvWebhookEndpoint(url) === id))
    throw new FlowError('webhook_endpoint_read_only');
  if (!isWellFormedId(id)) throw new FlowError('webhook_endpoint_not_found');
  return id;
}

function found(endpoint: WebhookEndpoint | null): WebhookEndpointView {
  if (endpoint === null) throw new FlowError('webhook_endpoint_not_found');
  return viewOfManaged(endpoint);
}

/** Every endpoint: those of WEBHOOK_URLS first (read-only), then the managed ones, oldest first. */
export async function listWebhookEndpoints(context: AdminContext): Promise<WebhookEndpointView[]> {
  const env = await listEnvEndpoints(context);
  const managed = await context.webhookEndpoints.listWebhookEndpoints();
  return [...env, ...managed.map(viewOfManaged)];
}

/** One endpoint, env or managed. */
export async function showWebhookEndpoint(context: AdminContext, id: string): Promise<WebhookEndpointView> {
  const env = (await listEnvEndpoints(context)).find((endpoint) => endpoint.id === id);
  if (env !== undefined) return env;
  if (!isWellFormedId(id)) throw new FlowError('webhook_endpoint_not_found');
  return found(await context.webhookEndpoints.findWebhookEndpoint(id));
}

/**
 * A new endpoint, enabled, with a fresh `whsec_` secret generated here (returned this once, stored sealed).
 * Events of the types in `eventTypes` (every type when empty) are queued for it from the next change on.
 */
export async function createWebhookEndpoint(
  context: AdminContext,
  input: { readonly url: string; readonly description?: string; readonly eventTypes?: readonly string[] },
): Promise<WebhookEndpointWithSecret> {
  const url = checkWebhookUrl(context, input.url);
  const eventTypes = checkEventTypes(input.eventTypes);
  const description = checkDescription(input.description);
  const secret = createWebhookSecret();
  const endpoint = await context.webhookEndpoints.insertWebhookEndpoint(
    { url, description, eventTypes, secret },
    (endpointId) => auditOf(context, 'admin_webhook_endpoint_created', endpointId),
  );
  return { endpoint: viewOfManaged(endpoint), secret };
}

/** Changes a managed endpoint's URL, description or event filter; what is queued already keeps its URL. */
export async function updateWebhookEndpoint(
  context: AdminContext,
  id: string,
  changes: WebhookEndpointChanges,
): Promise<WebhookEndpointView> {
  const endpointId = requireManagedId(context, id);
  const checked = {
    ...(changes.url === undefined ? {} : { url: checkWebhookUrl(context, changes.url) }),
    ...(changes.description === undefined ? {} : { description: checkDescription(changes.description) }),
    ...(changes.eventTypes === undefined ? {} : { eventTypes: checkEventTypes(changes.eventTypes) }),
  };
  return found(
    await context.webhookEndpoints.updateWebhookEndpoint(
      endpointId,
      checked,
      auditOf(context, 'admin_webhook_endpoint_updated', endpointId),
    ),
  );
}

/** Deletes a managed endpoint; what waits for it is abandoned (reason `endpoint deleted`). */
export async function deleteWebhookEndpoint(context: AdminContext, id: string): Promise<void> {
  const endpointId = requireManagedId(context, id);
  const deleted = await context.webhookEndpoints.deleteWebhookEndpoint(
    endpointId,
    auditOf(context, 'admin_webhook_endpoint_deleted', endpointId),
  );
  if (!deleted) throw new FlowError('webhook_endpoint_not_found');
}

/** Stops sending to a managed endpoint (reason `operator`); what waits for it is abandoned. */
export async function disableWebhookEndpoint(
  context: AdminContext,
  id: string,
): Promise<WebhookEndpointView> {
  const endpointId = requireManagedId(context, id);
  return found(
    await context.webhookEndpoints.disableManagedWebhookEndpoint(
      endpointId,
      'operator',
      context.account.clock.now(),
      auditOf(context, 'admin_webhook_endpoint_disabled', endpointId),
    ),
  );
}

/**
 * Sends to the endpoint again (after a 410 or an operator's disable): events from now on are queued for it.
 * An env endpoint's 410 is forgotten the same way. Abandoned deliveries stay abandoned (retry them one by one).
 */
export async function enableWebhookEndpoint(context: AdminContext, id: string): Promise<WebhookEndpointView> {
  const envUrl = context.webhookSettings.envUrls.find((url) => identifyEnvWebhookEndpoint(url) === id);
  if (envUrl !== undefined) {
    await context.webhookEndpoints.enableEnvWebhookEndpoint(
      envUrl,
      auditOf(context, 'admin_webhook_endpoint_enabled', id),
    );
    return showWebhookEndpoint(context, id);
  }
  if (!isWellFormedId(id)) throw new FlowError('webhook_endpoint_not_found');
  return found(
    await context.webhookEndpoints.enableManagedWebhookEndpoint(
      id,
      auditOf(context, 'admin_webhook_endpoint_enabled', id),
    ),
  );
}

/**
 * A new secret for a managed endpoint, returned this once. The one it replaces keeps signing for 24 hours:
 * until then every attempt carries both signatures, so a receiver switches secrets without losing an event.
 */
export async function rotateWebhookEndpointSecret(
  context: AdminContext,
  id: string,
): Promise<WebhookEndpointWithSecret> {
  const endpointId = requireManagedId(context, id);
  const secret = createWebhookSecret();
  const endpoint = await context.webhookEndpoints.rotateWebhookEndpointSecret(
    endpointId,
    secret,
    new Date(context.account.clock.now().getTime() + previousWebhookSecretLifetimeSeconds * 1000),
    auditOf(context, 'admin_webhook_secret_rotated', endpointId),
  );
  return { endpoint: found(endpoint), secret };
}

/** Queues an abandoned delivery again, due now, with the same webhook-id (receivers drop duplicates by it). */
export async function retryWebhookDelivery(context: AdminContext, deliveryId: string): Promise<void> {
  if (!isWellFormedId(deliveryId)) throw new FlowError('webhook_delivery_not_found');
  const outcome = await context.webhookEndpoints.retryWebhookDelivery(
    deliveryId,
    context.account.clock.now(),
    context.webhookSettings.envUrls,
    auditOf(context, 'admin_webhook_delivery_retried', deliveryId),
  );
  if (outcome === 'not_found') throw new FlowError('webhook_delivery_not_found');
  if (outcome === 'not_abandoned') throw new FlowError('webhook_delivery_not_abandoned');
  if (outcome === 'endpoint_disabled') throw new FlowError('webhook_endpoint_disabled');
}
