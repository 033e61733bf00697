import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { WebhookTargets } from '../flows/webhooks.ts';
import { createSecretBox, type SecretBox } from '../security/secret-box.ts';
import type { Database } from '../storage/postgres/database.ts';
import { PostgresWebhookQueue } from '../storage/postgres/webhook-deliveries.ts';
import { PostgresWebhookEndpointStore } from '../storage/postgres/webhook-endpoints.ts';
import { startWebhookDispatcher, type WebhookDispatchEvent } from '../webhooks/dispatcher.ts';

/**
 * What happens to the webhook deliveries in this process: `queued` after a commit that queued some (the
 * dispatcher claims at once), `attempted` after every attempt of this process's dispatcher (metrics).
 */
export interface WebhookEventMap {
  queued: [];
  attempted: [WebhookDispatchEvent];
}
export type WebhookEvents = EventEmitter<WebhookEventMap>;

export function createWebhookEvents(): WebhookEvents {
  return new EventEmitter<WebhookEventMap>();
}

/**
 * Seals the managed endpoints' signing secrets: the admin API seals, whichever process dispatches opens. A
 * secret sealed under a key of SECRET_KEY_PREVIOUS still opens, so a SECRET_KEY rotation breaks no endpoint.
 */
export function createWebhookSecretBox(
  config: Pick<Config, 'previousSecretKeys'>,
  secretKey: string,
): SecretBox {
  return createSecretBox([secretKey, ...config.previousSecretKeys], 'webhook-endpoint-secret');
}

/** The env endpoints (WEBHOOK_URLS) beside the managed ones the audit trail queues deliveries for. */
export function createWebhookTargets(config: Config['webhooks'], events: WebhookEvents): WebhookTargets {
  return { urls: config.urls, onQueued: () => events.emit('queued') };
}

// The claim that catches what a wake-up missed (a delivery queued by another process, a retry coming due).
const webhookPollMilliseconds = 1_000;

/**
 * Starts delivering webhooks from this process; returns the function that stops it. It runs without WEBHOOK_URLS
 * too: endpoints created through the admin API may appear at any time.
 */
export function startWebhookDelivery(options: {
  readonly config: Config['webhooks'];
  readonly secretBox: SecretBox;
  readonly database: Database;
  readonly events: WebhookEvents;
  readonly logger: Logger;
}): () => Promise<void> {
  const { config, events } = options;
  const endpoints = new PostgresWebhookEndpointStore(options.database.db, options.secretBox);
  const dispatcher = startWebhookDispatcher({
    queue: new PostgresWebhookQueue(options.database.db),
    secrets: config.secrets,
    findEndpointSecrets: (endpointId, now) => endpoints.findWebhookSigningSecrets(endpointId, now),
    logger: options.logger.child({ component: 'webhook-dispatcher' }),
    pollIntervalMilliseconds: webhookPollMilliseconds,
    timeoutMilliseconds: config.timeoutSeconds * 1000,
    allowPrivateTargets: config.allowPrivateTargets,
    retryMaxMilliseconds: config.retryMaxDelaySeconds * 1000,
    onEvent: (event) => events.emit('attempted', event),
  });
  const wake = (): void => dispatcher.wake();
  events.on('queued', wake);
  return async () => {
    events.off('queued', wake);
    await dispatcher.stop();
  };
}
