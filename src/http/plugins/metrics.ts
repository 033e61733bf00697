import client, { type Registry } from '@prometheus-io/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyMetrics from 'fastify-metrics';
import { DependencyUnavailableError } from '../../flows/errors.ts';

/** Mail waiting in the outbox (queued or leased), and for how long the oldest has waited. */
export interface OutboxStats {
  readonly depth: number;
  readonly oldestAgeSeconds: number;
}

/** What the metrics need beyond HTTP; deps.ts provides it. */
export interface MetricsDeps {
  /** Read at every scrape; shared by every instance, so any instance reports the whole outbox. */
  readOutboxStats(): Promise<OutboxStats>;
  /**
   * Calls `listener` with the outcome of every send of this process's dispatcher; returns the function that
   * stops the calls.
   */
  subscribeToEmailDeliveries(
    listener: (event: { readonly outcome: 'sent' | 'retry' | 'abandoned' }) => void,
  ): () => void;
  /** Seconds since the oldest webhook delivery still waiting was queued; 0 when none waits. */
  readOldestWebhookAgeSeconds?(): Promise<number>;
  /** Like subscribeToEmailDeliveries, for every attempt of this process's webhook dispatcher. */
  subscribeToWebhookAttempts?(
    listener: (event: { readonly outcome: 'delivered' | 'retry' | 'abandoned' | 'disabled' }) => void,
  ): () => void;
  /**
   * Set in a worker of several (WORKERS above 1): offers the app's registry to the cluster's aggregation and
   * returns the reader of every process's metrics, which /metrics then serves instead of this process's own.
   */
  shareWithCluster?(
    registry: Registry,
  ): () => Promise<{ readonly contentType: string; readonly text: string }>;
}

export const metricsPath = '/metrics';

/** Requests that replayed a refresh token outside its grace (their family was ended), counted at the answer. */
const refreshTokenReuses = new WeakSet<FastifyRequest>();

/** Marks `request` as a refresh-token replay, for `latchkey_refresh_token_reuse_total`. */
export function countRefreshTokenReuse(request: FastifyRequest): void {
  refreshTokenReuses.add(request);
}
/** A scrape answers even when the database does not: the outbox gauges then keep their last value. */
const outboxStatsTimeoutMilliseconds = 2_000;
// From a cache-speed answer to a slow hash under load; the defaults start at 50 ms and say little here.
const latencyBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics at /metrics: request latency per route (fastify-metrics), process metrics, and the
 * service's own counters. Each app has a registry of its own, so several apps in one process (tests) never
 * collide on the global one.
 *
 * Login outcomes and rate-limit refusals are counted from the answers (200 vs 401/403 on /login, any 429),
 * so whichever layer refused (per IP, per account, per recipient) is counted without the routes or flows
 * knowing about metrics.
 */
export async function registerMetrics(app: FastifyInstance, deps: MetricsDeps): Promise<void> {
  const registry = new client.Registry();
  const endpoint = {
    url: metricsPath,
    method: 'GET',
    logLevel: 'warn',
    exposeHeadRoute: false,
    schema: { hide: true },
  } as const;
  const readClusterMetrics = deps.shareWithCluster?.(registry);
  if (readClusterMetrics !== undefined) {
    // One scrape, whichever worker takes it, shows the sum over every process.
    app.route({
      ...endpoint,
      handler: async (_request, reply) => {
        // A worker that does not answer in time fails the scrape (503) rather than make it report a partial sum.
        const { contentType, text } = await readClusterMetrics().catch((error: unknown) => {
          throw new DependencyUnavailableError('cluster metrics', error);
        });
        return reply.type(contentType).send(text);
      },
    });
  }
  await app.register(fastifyMetrics.default, {
    promClient: client,
    endpoint: readClusterMetrics === undefined ? { ...endpoint, handler: () => {} } : null,
    defaultMetrics: { enabled: true, register: registry },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      routeBlacklist: [metricsPath],
      // fastify-metrics creates the summary even when it is off: it too must stay out of the global registry.
      overrides: {
        histogram: { buckets: latencyBucketsSeconds, registers: [registry] },
        summary: { registers: [registry] },
      },
    },
  });

  // The client fastify-metrics runs on (the one passed above): metrics made by another copy of a Prometheus
  // client would never reach /metrics.
  const prometheus = app.metrics.client;
  const logins = new prometheus.Counter({
    name: 'latchkey_logins_total',
    help: 'Login attempts by outcome: success (200) or failure (401, 403)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const rateLimitRefusals = new prometheus.Counter({
    name: 'latchkey_rate_limit_refusals_total',
    help: 'Requests refused with 429, by route',
    labelNames: ['route'],
    registers: [registry],
  });
  const mintedJwts = new prometheus.Counter({
    name: 'latchkey_jwts_minted_total',
    help: 'Signed JWTs minted by POST /jwt (200 answers)',
    registers: [registry],
  });
  const refreshReuses = new prometheus.Counter({
    name: 'latchkey_refresh_token_reuse_total',
    help: 'Refresh tokens replayed outside their grace window: each ended its refresh family',
    registers: [registry],
  });
  const emailDeliveries = new prometheus.Counter({
    name: 'latchkey_email_deliveries_total',
    help: "Sends by this process's dispatcher, by outcome: sent, retry (temporary failure) or abandoned",
    labelNames: ['outcome'],
    registers: [registry],
  });
  const outboxGauges = [
    {
      name: 'latchkey_outbox_depth',
      help: 'Emails queued or being sent (whole outbox, all instances)',
      stat: 'depth',
    },
    {
      name: 'latchkey_outbox_oldest_age_seconds',
      help: 'Age of the oldest email still queued or being sent; 0 when none waits',
      stat: 'oldestAgeSeconds',
    },
  ] as const;
  for (const { name, help, stat } of outboxGauges) {
    new prometheus.Gauge({
      name,
      help,
      registers: [registry],
      // Every process reads the same outbox: summed over WORKERS processes it would count each email that often.
      aggregator: 'max',
      async collect() {
        const stats = await readOutboxStatsInTime(deps);
        if (stats !== null) this.set(stats[stat]);
      },
    });
  }

  const webhookDeliveries = new prometheus.Counter({
    name: 'latchkey_webhook_deliveries_total',
    help: "Webhook attempts by this process's dispatcher, by outcome: delivered, retry (failed, tried again), abandoned (3 days of failures) or disabled (410 Gone)",
    labelNames: ['outcome'],
    registers: [registry],
  });
  new prometheus.Gauge({
    name: 'latchkey_webhook_oldest_age_seconds',
    help: 'Age of the oldest webhook delivery still waiting; 0 when none waits',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      const age = await readInTime(deps.readOldestWebhookAgeSeconds?.() ?? Promise.resolve(0));
      if (age !== null) this.set(age);
    },
  });
  for (const outcome of ['delivered', 'retry', 'abandoned', 'disabled'])
    webhookDeliveries.inc({ outcome }, 0);
  const unsubscribeFromWebhooks = deps.subscribeToWebhookAttempts?.((event) =>
    webhookDeliveries.inc({ outcome: event.outcome }),
  );
  app.addHook('onClose', async () => unsubscribeFromWebhooks?.());

  // Every series exists from the start, so rate() and alerts work before the first event.
  for (const outcome of ['success', 'failure']) logins.inc({ outcome }, 0);
  for (const outcome of ['sent', 'retry', 'abandoned']) emailDeliveries.inc({ outcome }, 0);
  mintedJwts.inc(0);
  refreshReuses.inc(0);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined) return;
    if (reply.statusCode === 429) rateLimitRefusals.inc({ route });
    if (route === '/jwt' && request.method === 'POST' && reply.statusCode === 200) mintedJwts.inc();
    if (refreshTokenReuses.has(request)) refreshReuses.inc();
    if (route === '/login' && request.method === 'POST') {
      if (reply.statusCode === 200) logins.inc({ outcome: 'success' });
      else if (reply.statusCode === 401 || reply.statusCode === 403) logins.inc({ outcome: 'failure' });
    }
  });

  const unsubscribe = deps.subscribeToEmailDeliveries((event) =>
    emailDeliveries.inc({ outcome: event.outcome }),
  );
  app.addHook('onClose', async () => unsubscribe());
}

/** `read`'s value, or null when it fails or outlasts a scrape's patience. */
async function readInTime<T>(read: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      read.catch(() => null),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), outboxStatsTimeoutMilliseconds);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One database read per scrape, shared by both gauges. */
const pendingReads = new WeakMap<MetricsDeps, Promise<OutboxStats | null>>();

function readOutboxStatsInTime(deps: MetricsDeps): Promise<OutboxStats | null> {
  let pending = pendingReads.get(deps);
  if (pending === undefined) {
    let timer: NodeJS.Timeout | undefined;
    pending = Promise.race([
      deps.readOutboxStats().catch(() => null),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), outboxStatsTimeoutMilliseconds);
      }),
    ]).finally(() => {
      clearTimeout(timer);
      pendingReads.delete(deps);
    });
    pendingReads.set(deps, pending);
  }
  return pending;
}
