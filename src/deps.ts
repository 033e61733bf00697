// The one place that picks adapters: PostgreSQL or embedded PGlite, Redis or the database/process, SMTP or
// the console. Everything else receives ports.
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { startEmailDispatcher } from './email/dispatcher.ts';
import type { EmailTransport } from './email/transport.ts';
import { createConsoleTransport } from './email/transports/console.ts';
import { createSmtpTransport } from './email/transports/smtp.ts';
import { startHousekeeping } from './flows/housekeeping.ts';
import type { AccountContext } from './flows/context.ts';
import type { HealthCheck, RateLimiter } from './flows/ports.ts';
import { rateLimitedRoutes, type HttpDeps, type RateLimitedRoute } from './http/route-deps.ts';
import { deriveAccountPseudonymKey } from './http/security-log.ts';
import { loadCommonPasswords } from './security/common-passwords.ts';
import { waitingHashJobs } from './security/hash-scheduler.ts';
import { budgetNamesStartingWith, type RateLimitLayer } from './security/rate-limit-budgets.ts';
import { createSecretBox } from './security/secret-box.ts';
import { createMemoryRateLimiter } from './storage/memory/rate-limiter.ts';
import { openDatabase, type Database } from './storage/postgres/database.ts';
import type { EmbeddedServer } from './storage/postgres/embedded-server.ts';
import { PostgresOutboxQueue, readOutboxStats } from './storage/postgres/email-outbox.ts';
import { PostgresExpiredRecordsStore } from './storage/postgres/housekeeping.ts';
import { migrateDatabase } from './storage/postgres/migrate.ts';
import { PostgresSessionStore } from './storage/postgres/session-store.ts';
import { PostgresTokenStore } from './storage/postgres/token-store.ts';
import { PostgresTransactor } from './storage/postgres/transactor.ts';
import { PostgresUserStore } from './storage/postgres/user-store.ts';
import { createRedisClient, createRedisHealthCheck } from './storage/redis/client.ts';
import { createRedisRateLimiter } from './storage/redis/rate-limiter.ts';
import { RedisSessionStore } from './storage/redis/session-store.ts';

export const serviceVersion = '0.1.0';

export interface Deps {
  readonly http: HttpDeps;
  readonly database: Database;
  /** Starts delivering the outbox from this process; returns the function that stops it. */
  startEmailDelivery(): () => Promise<void>;
  /** Starts the periodic clean-up of expired rows (if configured); returns the function that stops it. */
  startHousekeeping(): () => Promise<void>;
  close(): Promise<void>;
}

export async function createDeps(
  config: Config,
  logger: Logger,
  options: { readonly embeddedServer?: EmbeddedServer | undefined } = {},
): Promise<Deps> {
  // Read while the database starts (the embedded one starts in a worker thread): half a second of start-up.
  const commonPasswords = loadCommonPasswords();
  commonPasswords.catch(() => {}); // awaited below; a failure surfaces there
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost'),
    ...(options.embeddedServer === undefined ? {} : { embeddedServer: options.embeddedServer }),
  });
  let redis: Redis | undefined;
  try {
    await migrateDatabase(database.pool);
    if (config.redisUrl !== undefined) {
      redis = createRedisClient({
        url: config.redisUrl,
        password: config.redisPassword,
        keyPrefix: config.redisKeyPrefix,
      });
      redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection problem'));
    }
  } catch (error) {
    await database.close();
    throw error;
  }

  const box = createSecretBox(config.secretKey, 'email-outbox');
  const messageIdDomain = /@([^>\s]+)>?\s*$/.exec(config.fromEmail)?.[1] ?? 'localhost';
  let wakeDispatcher: () => void = () => {};
  const transactor = new PostgresTransactor(database.db, {
    box,
    messageIdDomain,
    onEmailCommitted: () => wakeDispatcher(),
  });

  const base = config.appBaseUrl;
  const account: AccountContext = {
    transactor,
    users: new PostgresUserStore(database.db),
    tokens: new PostgresTokenStore(database.db),
    sessions: redis !== undefined ? new RedisSessionStore(redis) : new PostgresSessionStore(database.db),
    clock: { now: () => new Date() },
    links: {
      verifyEmailUrl: (token) => new URL(`/verify-email?token=${encodeURIComponent(token)}`, base).href,
      resetPasswordUrl: (token) => new URL(`/reset-password?token=${encodeURIComponent(token)}`, base).href,
      requestPasswordResetUrl: () => new URL('/reset-password', base).href,
    },
    sessionLifetimeSeconds: config.accessTokenExpireMinutes * 60,
    passwordPolicy: {
      minimumLength: config.passwordMinimumLength,
      commonPasswords: await commonPasswords,
    },
    budgets: {
      loginAttemptsPerAccount: buildLimiters('account', 'account.login'),
      resetAttemptsPerToken: buildLimiters('token', 'token.reset_password'),
      emailsPerRecipient: buildLimiters('recipient', 'recipient.email'),
    },
  };

  /** One limiter per budget window, built once and shared by every flow and route that spends it. */
  function buildLimiters(layer: RateLimitLayer, prefix: string): RateLimiter[] {
    if (!config.rateLimitEnabled || !config.rateLimitLayers[layer]) return [];
    return budgetNamesStartingWith(prefix).map((name) => {
      const options = { keyPrefix: `rate:${name}`, ...config.rateLimitBudgets[name] };
      return redis !== undefined ? createRedisRateLimiter(redis, options) : createMemoryRateLimiter(options);
    });
  }
  const clientIpLimiters: Partial<Record<RateLimitedRoute, RateLimiter>> = {};
  for (const route of rateLimitedRoutes) {
    const [limiter] = buildLimiters('ip', `ip.${route}`);
    if (limiter !== undefined) clientIpLimiters[route] = limiter;
  }

  const healthChecks: HealthCheck[] = [
    { name: 'database', check: async () => void (await database.pool.query('select 1')) },
  ];
  if (redis !== undefined) healthChecks.push(createRedisHealthCheck(redis));

  const transport: EmailTransport =
    config.smtp !== undefined
      ? createSmtpTransport({
          ...config.smtp,
          sendTimeoutMilliseconds: config.smtp.sendTimeoutSeconds * 1000,
        })
      : createConsoleTransport();
  // The metrics of this process's dispatcher, if /metrics is served.
  const deliveryListeners = new Set<(event: { outcome: 'sent' | 'retry' | 'abandoned' }) => void>();

  const http: HttpDeps = {
    account,
    clientIpLimiters,
    healthChecks,
    appBaseUrl: base,
    corsOrigins: config.corsOrigins,
    corsAllowCredentials: config.corsAllowCredentials,
    secureCookies: !isPlainLocalHttp(base),
    version: serviceVersion,
    accountPseudonymKey: deriveAccountPseudonymKey(config.secretKey),
    ...(config.metricsEnabled
      ? {
          metrics: {
            readOutboxStats: () => readOutboxStats(database.db),
            subscribeToEmailDeliveries(listener) {
              deliveryListeners.add(listener);
              return () => deliveryListeners.delete(listener);
            },
          },
        }
      : {}),
  };

  return {
    http,
    database,
    startEmailDelivery() {
      const dispatcher = startEmailDispatcher({
        queue: new PostgresOutboxQueue(database.db, { box }),
        transport,
        from: config.fromEmail,
        productName: 'Latchkey',
        logger: logger.child({ component: 'email-dispatcher' }),
        pollIntervalMilliseconds: config.emailDispatchPollMilliseconds,
        // Outlasts every send (bounded by the send timeout), so a message is never leased twice at once;
        // a crashed dispatcher's mail is taken over when its lease runs out.
        leaseSeconds: 2 * (config.smtp?.sendTimeoutSeconds ?? 60),
        retryMaxMilliseconds: config.emailRetryMaxDelaySeconds * 1000,
        // Under a login or registration storm the answers come first, and the mail a few seconds later.
        deferWhile: () => waitingHashJobs() > 0,
        maxDeferMilliseconds: config.emailMaxDeferSeconds * 1000,
        onEvent: (event) => {
          for (const listener of deliveryListeners) listener(event);
        },
      });
      wakeDispatcher = () => dispatcher.wake();
      return async () => {
        wakeDispatcher = () => {};
        await dispatcher.stop();
      };
    },
    startHousekeeping() {
      if (config.cleanupIntervalSeconds === 0) return async () => {};
      const housekeepingLogger = logger.child({ component: 'housekeeping' });
      const housekeeping = startHousekeeping({
        store: new PostgresExpiredRecordsStore(database.db),
        clock: account.clock,
        intervalMilliseconds: config.cleanupIntervalSeconds * 1000,
        onPassFinished: (deleted) => housekeepingLogger.info({ deleted }, 'expired records deleted'),
        onPassFailed: (error) =>
          housekeepingLogger.warn({ err: error }, 'clean-up failed; next pass retries'),
      });
      return () => housekeeping.stop();
    },
    async close() {
      await transport.close();
      if (redis !== undefined) redis.disconnect();
      await database.close();
    },
  };
}

/** Browsers treat http://localhost as secure enough for cookies; anything else must be https. */
function isPlainLocalHttp(base: URL): boolean {
  return base.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(base.hostname);
}
