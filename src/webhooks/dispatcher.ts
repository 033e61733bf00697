import type { Logger } from 'pino';
import type { WebhookDelivery, WebhookQueue } from '../flows/webhooks.ts';
import { startClaimLoop } from '../queue/claim-loop.ts';
import { attemptWebhookDelivery, type WebhookAttemptResult } from './attempt.ts';

/** One attempt's outcome (for metrics): `retry` will be tried again, `disabled` met a 410 Gone. */
export interface WebhookDispatchEvent {
  readonly outcome: 'delivered' | 'retry' | 'abandoned' | 'disabled';
  readonly eventType: string;
}

export interface WebhookDispatcherOptions {
  readonly queue: WebhookQueue;
  /** The secrets of the env endpoints (WEBHOOK_SECRET). */
  readonly secrets: readonly string[];
  /** The secrets of a managed endpoint at `now` (null: it is gone, and so is the delivery). */
  readonly findEndpointSecrets?: (endpointId: string, now: Date) => Promise<readonly string[] | null>;
  readonly logger: Logger;
  readonly pollIntervalMilliseconds: number;
  readonly timeoutMilliseconds: number;
  readonly allowPrivateTargets: boolean;
  /** Cap of the growing delay between two attempts. */
  readonly retryMaxMilliseconds: number;
  readonly retryBaseMilliseconds?: number;
  /** A failure later than this after the event abandons the delivery. */
  readonly retryWindowSeconds?: number;
  readonly batchSize?: number;
  readonly now?: () => Date;
  /** In [0, 1); picks each retry delay within its bound (full jitter). */
  readonly random?: () => number;
  /** Told the outcome of every attempt; must not throw. */
  readonly onEvent?: (event: WebhookDispatchEvent) => void;
}

export interface WebhookDispatcher {
  /** A commit just queued deliveries: claim now rather than at the next poll. */
  wake(): void;
  /** Stops claiming and waits for the attempts in flight (each bounded by its timeout). */
  stop(): Promise<void>;
}

const defaultBatchSize = 10;
const defaultRetryBaseMilliseconds = 5_000;
// Three days: a receiver down over a long weekend still gets every event.
export const webhookRetryWindowSeconds = 3 * 24 * 60 * 60;

/**
 * Drains the webhook deliveries: claims due ones, POSTs each (signed at this attempt), records the outcome.
 * At least once: a crash between the receiver's 2xx and the update sends it again after the lease, with the
 * same webhook-id, by which receivers drop duplicates. Logs carry the delivery and webhook ids, the endpoint's
 * host and the status, never the body.
 */
export function startWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const batchSize = options.batchSize ?? defaultBatchSize;
  const retryBaseMilliseconds = options.retryBaseMilliseconds ?? defaultRetryBaseMilliseconds;
  const retryWindowMilliseconds = (options.retryWindowSeconds ?? webhookRetryWindowSeconds) * 1000;
  // Outlasts every attempt, so a delivery is never leased to two dispatchers at once.
  const leaseSeconds = Math.ceil((2 * options.timeoutMilliseconds) / 1000) + 5;
  const now = options.now ?? ((): Date => new Date());
  const random = options.random ?? Math.random;
  const { queue, logger } = options;

  function report(outcome: WebhookDispatchEvent['outcome'], delivery: WebhookDelivery): void {
    try {
      options.onEvent?.({ outcome, eventType: delivery.eventType });
    } catch (error) {
      logger.error({ err: error }, 'webhook dispatch observer failed');
    }
  }

  async function record(delivery: WebhookDelivery, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      // The lease runs out and the delivery is claimed again: at worst it is sent twice, with the same id.
      logger.error({ deliveryId: delivery.id, err: error }, 'webhook delivery update failed');
    }
  }

  async function deliver(delivery: WebhookDelivery): Promise<void> {
    const attemptAt = now();
    const secrets =
      delivery.endpointId === null
        ? options.secrets
        : ((await options.findEndpointSecrets?.(delivery.endpointId, attemptAt)) ?? null);
    if (secrets === null) {
      logger.warn({ deliveryId: delivery.id }, 'webhook abandoned: its endpoint was deleted');
      await record(delivery, () => queue.markWebhookAbandoned(delivery.id, 'endpoint deleted'));
      report('abandoned', delivery);
      return;
    }
    const result = await attemptWebhookDelivery({
      url: delivery.endpointUrl,
      webhookId: delivery.webhookId,
      payload: delivery.payload,
      secrets,
      now: attemptAt,
      timeoutMilliseconds: options.timeoutMilliseconds,
      allowPrivateTargets: options.allowPrivateTargets,
    });
    const logContext = {
      deliveryId: delivery.id,
      webhookId: delivery.webhookId,
      eventType: delivery.eventType,
      endpointHost: describeHost(delivery.endpointUrl),
      attempts: delivery.attempts,
      ...(result.kind === 'answered' ? { statusCode: result.statusCode } : {}),
    };
    if (result.kind === 'answered' && result.statusCode >= 200 && result.statusCode < 300) {
      logger.info(logContext, 'webhook delivered');
      await record(delivery, () => queue.markWebhookDelivered(delivery.id, now()));
      report('delivered', delivery);
      return;
    }
    if (result.kind === 'answered' && result.statusCode === 410) {
      logger.warn(logContext, 'webhook endpoint answered 410 Gone: disabled, nothing more is sent to it');
      await record(delivery, () =>
        queue.disableWebhookEndpoint(delivery.endpointUrl, 'answered 410 Gone', now(), delivery.endpointId),
      );
      report('disabled', delivery);
      return;
    }
    const error = describeFailure(result);
    if (attemptAt.getTime() - delivery.createdAt.getTime() >= retryWindowMilliseconds) {
      logger.warn(
        { ...logContext, error },
        'webhook abandoned: still failing at the end of its retry window',
      );
      await record(delivery, () => queue.markWebhookAbandoned(delivery.id, error));
      report('abandoned', delivery);
      return;
    }
    const delayMilliseconds = computeRetryDelayMilliseconds(delivery.attempts);
    logger.warn(
      { ...logContext, error, retryInMilliseconds: delayMilliseconds },
      'webhook attempt failed, will retry',
    );
    await record(delivery, () =>
      queue.scheduleWebhookRetry(delivery.id, new Date(attemptAt.getTime() + delayMilliseconds), error),
    );
    report('retry', delivery);
  }

  /** Exponential backoff with full jitter: a receiver coming back is not hit by every retry at once. */
  function computeRetryDelayMilliseconds(attempts: number): number {
    const exponent = Math.min(Math.max(attempts - 1, 0), 30);
    const boundMilliseconds = Math.min(options.retryMaxMilliseconds, retryBaseMilliseconds * 2 ** exponent);
    return Math.floor(random() * boundMilliseconds);
  }

  const loop = startClaimLoop({
    claimBatch: (limit) => queue.claimDueWebhookDeliveries(limit, now(), leaseSeconds),
    deliver,
    batchSize,
    pollIntervalMilliseconds: options.pollIntervalMilliseconds,
    onClaimFailed: (error, retryInMilliseconds) =>
      logger.error({ err: error, retryInMilliseconds }, 'webhook claim failed'),
    onLoopFailed: (error) => logger.fatal({ err: error }, 'webhook dispatcher stopped unexpectedly'),
  });

  return {
    wake(): void {
      loop.wake();
    },
    stop(): Promise<void> {
      return loop.stop();
    },
  };
}

/** The endpoint's host alone: a URL's path or query may carry a receiver's own secret. */
function describeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}

function describeFailure(result: WebhookAttemptResult): string {
  return result.kind === 'answered' ? `answered ${String(result.statusCode)}` : result.error;
}
