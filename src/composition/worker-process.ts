// The worker process (`npm run worker`): the mail dispatcher and the clean-up, nothing of the API. It builds no
// account context, loads no common-password list, makes no rate limiter and never connects to Redis (so a
// Redis outage never touches mail delivery); test/config/composition.test.ts holds it to that.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { MetricsDeps } from '../http/plugins/metrics.ts';
import type { ServiceRouteDeps } from '../http/route-deps.ts';
import type { BackgroundWork } from './background-work.ts';
import { createDatabaseHealthCheck, createOutboxSecretBox, openMigratedDatabase } from './database.ts';
import { createEmailTransport, startEmailDelivery } from './email-delivery.ts';
import { loadConfiguredEmailTemplates } from './email-templates.ts';
import type { EmailTemplateFiles } from '../email/templates/index.ts';
import { startExpiredRecordsCleanup } from './housekeeping.ts';
import { createMetricsDeps, serviceVersion } from './http-deps.ts';
import { createOutboxEvents } from './outbox-events.ts';
import { createSigningKeyContext } from './signing-keys.ts';
import {
  createWebhookEvents,
  createWebhookSecretBox,
  createWebhookTargets,
  startWebhookDelivery,
} from './webhook-delivery.ts';

export interface WorkerProcess extends BackgroundWork {
  /** For the optional health port: /health/live, /health/ready (the database) and /metrics. */
  readonly service: ServiceRouteDeps;
  readonly metrics: MetricsDeps | undefined;
}

export async function composeWorkerProcess(
  config: Config,
  logger: Logger,
  options: {
    readonly secretKey: string;
    /** Loaded by the caller to fail before anything starts; read here from config when not given. */
    readonly emailTemplates?: EmailTemplateFiles | undefined;
  },
): Promise<WorkerProcess> {
  // First, so a bad template folder stops start-up before a database is opened.
  const emailTemplates = options.emailTemplates ?? loadConfiguredEmailTemplates(config);
  const database = await openMigratedDatabase({ config, logger });
  const outboxEvents = createOutboxEvents();
  const webhookEvents = createWebhookEvents();
  const transport = createEmailTransport(config.email.smtp);
  return {
    database,
    service: { healthChecks: [createDatabaseHealthCheck(database)], version: serviceVersion },
    metrics: config.metrics.enabled ? createMetricsDeps(database, outboxEvents, webhookEvents) : undefined,
    startEmailDelivery: () =>
      startEmailDelivery({
        config: config.email,
        database,
        outboxSecretBox: createOutboxSecretBox(config, options.secretKey),
        transport,
        outboxEvents,
        logger,
        defaultLocale: config.pages.defaultLocale,
        productName: config.pages.productName,
        templateFiles: emailTemplates,
      }),
    startWebhookDelivery: () =>
      startWebhookDelivery({
        config: config.webhooks,
        secretBox: createWebhookSecretBox(config, options.secretKey),
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
        signingKeys: {
          context: createSigningKeyContext({ config, database, secretKey: options.secretKey }),
          rotationDays: config.jwt.keyRotationDays,
        },
      }),
    async close() {
      await transport.close();
      await database.close();
    },
  };
}
