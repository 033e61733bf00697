// The one place that picks adapters: PostgreSQL or embedded PGlite, Redis or the database/process, SMTP or
// the console. Everything else receives ports.
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { startEmailDispatcher } from './email/dispatcher.ts';
import type { EmailTransport } from './email/transport.ts';
import { createConsoleTransport } from './email/transports/console.ts';
import { createSmtpTransport } from './email/transports/smtp.ts';
import type { AccountContext } from './flows/context.ts';
import type { HealthCheck, RateLimiter } from './flows/ports.ts';
import type { HttpDeps, RateLimitedRoute } from './http/route-deps.ts';
import { createSecretBox } from './security/secret-box.ts';
import { createMemoryRateLimiter } from './storage/memory/rate-limiter.ts';
import { openDatabase, type Database } from './storage/postgres/database.ts';
import { PostgresOutboxQueue } from './storage/postgres/email-outbox.ts';
import { migrateDatabase } from './storage/postgres/migrate.ts';
import { PostgresSessionStore } from './storage/postgres/session-store.ts';
import { PostgresTokenStore } from './storage/postgres/token-store.ts';
import { PostgresTransactor } from './storage/postgres/transactor.ts';
import { PostgresUserStore } from './storage/postgres/user-store.ts';
import { createRedisClient, createRedisHealthCheck } from './storage/redis/client.ts';
import { createRedisRateLimiter } from './storage/redis/rate-limiter.ts';
import { RedisSessionStore } from './storage/redis/session-store.ts';

export const serviceVersion = '0.1.0';

/** Per client IP and route, per window: generous for people, tight for scripts. */
export const clientIpBudgets: Record<RateLimitedRoute, { points: number; durationSeconds: number }> = {
  register: { points: 10, durationSeconds: 60 },
  verify_email: { points: 30, durationSeconds: 60 },
  resend_verification: { points: 5, durationSeconds: 60 },
  login: { points: 20, durationSeconds: 60 },
  request_password_reset: { points: 5, durationSeconds: 60 },
  reset_password: { points: 20, durationSeconds: 60 },
};

export interface Deps {
  readonly http: HttpDeps;
  readonly database: Database;
  /** Starts delivering the outbox from this process; returns the function that stops it. */
  startEmailDelivery(): () => Promise<void>;
  close(): Promise<void>;
}

export async function createDeps(config: Config, logger: Logger): Promise<Deps> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost'),
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
  };

  const clientIpLimiters: Partial<Record<RateLimitedRoute, RateLimiter>> = {};
  if (config.rateLimitEnabled) {
    for (const [route, budget] of Object.entries(clientIpBudgets) as [
      RateLimitedRoute,
      (typeof clientIpBudgets)[RateLimitedRoute],
    ][]) {
      const options = { keyPrefix: `rate:ip:${route}`, ...budget };
      clientIpLimiters[route] =
        redis !== undefined ? createRedisRateLimiter(redis, options) : createMemoryRateLimiter(options);
    }
  }

  const healthChecks: HealthCheck[] = [
    { name: 'database', check: async () => void (await database.pool.query('select 1')) },
  ];
  if (redis !== undefined) healthChecks.push(createRedisHealthCheck(redis));

  const transport: EmailTransport =
    config.smtp !== undefined ? createSmtpTransport(config.smtp) : createConsoleTransport();

  const http: HttpDeps = {
    account,
    clientIpLimiters,
    healthChecks,
    appBaseUrl: base,
    secureCookies: !isPlainLocalHttp(base),
    version: serviceVersion,
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
      });
      wakeDispatcher = () => dispatcher.wake();
      return async () => {
        wakeDispatcher = () => {};
        await dispatcher.stop();
      };
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
