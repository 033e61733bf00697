// The API process (`npm start`): HTTP, sessions and rate limits, and (unless EMAIL_DISPATCHER=false) the mail
// dispatcher and the clean-up. The one place that assembles it; src/main.ts starts and stops it.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { HealthCheck } from '../flows/ports.ts';
import type { HttpDeps } from '../http/route-deps.ts';
import { loadCommonPasswords, type CommonPasswordList } from '../security/common-passwords.ts';
import { waitingHashJobs } from '../security/hash-scheduler.ts';
import type { EmbeddedServer } from '../storage/postgres/embedded-server.ts';
import { createRedisHealthCheck, type RedisClient } from '../storage/redis/client.ts';
import { createAccountContext } from './account-context.ts';
import { createAdminContext } from './admin-context.ts';
import type { BackgroundWork } from './background-work.ts';
import { createDatabaseHealthCheck, createOutboxSecretBox, openMigratedDatabase } from './database.ts';
import { createEmailTransport, startEmailDelivery } from './email-delivery.ts';
import { loadConfiguredEmailTemplates } from './email-templates.ts';
import type { EmailTemplateFiles } from '../email/templates/index.ts';
import { startExpiredRecordsCleanup } from './housekeeping.ts';
import { createHttpDeps, createMetricsDeps } from './http-deps.ts';
import { createOutboxEvents } from './outbox-events.ts';
import { createAttemptBudgets, createClientIpLimiters, createRateLimiterBuilder } from './rate-limiters.ts';
import { connectRedis } from './redis.ts';
import {
  createWebhookEvents,
  createWebhookSecretBox,
  createWebhookTargets,
  startWebhookDelivery,
} from './webhook-delivery.ts';
import { accessTokenSettingsOf, createSigningKeyContext, loadSigningKeyRing } from './signing-keys.ts';

export interface ApiProcess extends BackgroundWork {
  readonly http: HttpDeps;
}

export async function composeApiProcess(
  config: Config,
  logger: Logger,
  options: {
    readonly secretKey: string;
    readonly embeddedServer?: EmbeddedServer | undefined;
    /** Loaded by the caller to fail before anything starts; read here from config when not given. */
    readonly emailTemplates?: EmailTemplateFiles | undefined;
  },
): Promise<ApiProcess> {
  // First, so a bad template folder stops start-up before a database is opened.
  const emailTemplates = options.emailTemplates ?? loadConfiguredEmailTemplates(config);
  // Read while the database starts (the embedded one starts in a worker thread): half a second of start-up.
  const commonPasswords = loadCommonPasswords();
  commonPasswords.catch(() => {}); // awaited below; a failure surfaces there
  const database = await openMigratedDatabase({ config, logger, embeddedServer: options.embeddedServer });
  let commonPasswordList: CommonPasswordList;
  try {
    commonPasswordList = await commonPasswords;
  } catch (error) {
    await database.close();
    throw error;
  }
  const redis: RedisClient | undefined =
    config.redis === undefined ? undefined : connectRedis(config.redis, logger);

  const outboxEvents = createOutboxEvents();
  const webhookEvents = createWebhookEvents();
  const outboxSecretBox = createOutboxSecretBox(config, options.secretKey);
  const webhookSecretBox = createWebhookSecretBox(config, options.secretKey);
  const buildLimiters = createRateLimiterBuilder(config.rateLimit, redis);
  const account = createAccountContext({
    config,
    database,
    redis,
    outboxSecretBox,
    outboxEvents,
    commonPasswords: commonPasswordList,
    budgets: createAttemptBudgets(buildLimiters),
    secretKey: options.secretKey,
    webhooks: createWebhookTargets(config.webhooks, webhookEvents),
  });
  const signingKeys = createSigningKeyContext({ config, database, secretKey: options.secretKey });
  let signingKeyRing: Awaited<ReturnType<typeof loadSigningKeyRing>>;
  try {
    signingKeyRing = await loadSigningKeyRing(signingKeys, logger);
  } catch (error) {
    redis?.disconnect();
    await database.close();
    throw error;
  }
  const healthChecks: HealthCheck[] = [createDatabaseHealthCheck(database)];
  if (redis !== undefined) healthChecks.push(createRedisHealthCheck(redis));
  const transport = createEmailTransport(config.email.smtp);

  return {
    http: createHttpDeps({
      config,
      secretKey: options.secretKey,
      account,
      admin: createAdminContext(database, account, {
        config: config.webhooks,
        secretBox: webhookSecretBox,
      }),
      clientIpLimiters: createClientIpLimiters(buildLimiters),
      healthChecks,
      metrics: config.metrics.enabled ? createMetricsDeps(database, outboxEvents, webhookEvents) : undefined,
      accessTokens: {
        signingKeys: signingKeyRing,
        settings: accessTokenSettingsOf(config),
        jwksMaxAgeSeconds: config.jwt.jwksMaxAgeSeconds,
      },
    }),
    database,
    startEmailDelivery: () =>
      startEmailDelivery({
        config: config.email,
        database,
        outboxSecretBox,
        transport,
        outboxEvents,
        logger,
        defaultLocale: config.pages.defaultLocale,
        productName: config.pages.productName,
        templateFiles: emailTemplates,
        // Under a login or registration storm the answers come first, and the mail a few seconds later.
        deferWhile: () => waitingHashJobs() > 0,
      }),
    startWebhookDelivery: () =>
      startWebhookDelivery({
        config: config.webhooks,
        secretBox: webhookSecretBox,
        database,
        events: webhookEvents,
        logger,
      }),
    startHousekeeping: () =>
      startExpiredRecordsCleanup({
        config,
        database,
        logger,
        webhooks: createWebhookTargets(config.webhooks, webhookEvents),
        signingKeys: { context: signingKeys, rotationDays: config.jwt.keyRotationDays },
      }),
    async close() {
      await signingKeyRing.stopReloading();
      await transport.close();
      redis?.disconnect();
      await database.close();
    },
  };
}
