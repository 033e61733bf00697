import { isClusterWorker, shareMetricsWithSupervisor } from '../cluster.ts';
import type { Config } from '../config.ts';
import type { AdminContext } from '../flows/admin-context.ts';
import type { AccountContext } from '../flows/context.ts';
import type { HealthCheck, RateLimiter } from '../flows/ports.ts';
import type { MetricsDeps } from '../http/plugins/metrics.ts';
import type { AccessTokenDeps, HttpDeps, RateLimitedRoute } from '../http/route-deps.ts';
import { deriveAccountPseudonymKey } from '../http/security-log.ts';
import type { Database } from '../storage/postgres/database.ts';
import { readOutboxStats } from '../storage/postgres/email-outbox.ts';
import { PostgresWebhookQueue } from '../storage/postgres/webhook-deliveries.ts';
import type { OutboxEvents } from './outbox-events.ts';
import type { WebhookEvents } from './webhook-delivery.ts';

export const serviceVersion = '0.1.0';

export interface HttpDepsOptions {
  readonly config: Pick<Config, 'http' | 'pages'>;
  /** SECRET_KEY or the development secret: for HTTP-side keys (such as a keyed log pseudonym). */
  readonly secretKey: string;
  readonly account: AccountContext;
  readonly admin: AdminContext;
  readonly clientIpLimiters: Partial<Record<RateLimitedRoute, RateLimiter>>;
  readonly healthChecks: readonly HealthCheck[];
  /** Set: Prometheus metrics at /metrics. */
  readonly metrics: MetricsDeps | undefined;
  readonly accessTokens: AccessTokenDeps;
}

/** Everything the API's routes and plugins are given. */
export function createHttpDeps(options: HttpDepsOptions): HttpDeps {
  const { http, pages } = options.config;
  return {
    account: options.account,
    admin: options.admin,
    clientIpLimiters: options.clientIpLimiters,
    healthChecks: options.healthChecks,
    appBaseUrl: http.appBaseUrl,
    corsOrigins: http.corsOrigins,
    corsAllowCredentials: http.corsAllowCredentials,
    secureCookies: !isPlainLocalHttp(http.appBaseUrl),
    ...(http.sessionCookieDomain === undefined ? {} : { sessionCookieDomain: http.sessionCookieDomain }),
    site: {
      productName: pages.productName,
      brandColor: pages.brandColor,
      defaultLocale: pages.defaultLocale,
    },
    returnToOrigins: pages.returnToOrigins,
    version: serviceVersion,
    accountPseudonymKey: deriveAccountPseudonymKey(options.secretKey),
    accessTokens: options.accessTokens,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  };
}

/** The outbox gauges (shared by every instance) and the outcomes of this process's sends. */
export function createMetricsDeps(
  database: Database,
  outboxEvents: OutboxEvents,
  webhookEvents?: WebhookEvents,
): MetricsDeps {
  const webhookQueue = new PostgresWebhookQueue(database.db);
  return {
    async readOldestWebhookAgeSeconds() {
      const oldest = await webhookQueue.findOldestPendingWebhookAt();
      return oldest === null ? 0 : Math.max(0, (Date.now() - oldest.getTime()) / 1000);
    },
    ...(webhookEvents === undefined
      ? {}
      : {
          subscribeToWebhookAttempts(listener) {
            webhookEvents.on('attempted', listener);
            return () => webhookEvents.off('attempted', listener);
          },
        }),
    readOutboxStats: () => readOutboxStats(database.db),
    subscribeToEmailDeliveries(listener) {
      outboxEvents.on('delivered', listener);
      return () => outboxEvents.off('delivered', listener);
    },
    ...(isClusterWorker() ? { shareWithCluster: shareMetricsWithSupervisor } : {}),
  };
}

/** Browsers treat http://localhost as secure enough for cookies; anything else must be https. */
function isPlainLocalHttp(base: URL): boolean {
  return base.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(base.hostname);
}
