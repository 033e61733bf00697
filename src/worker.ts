// Worker process entry (`npm run worker`): delivers the email outbox and deletes expired rows; answers no API
// request. Run it beside API instances started with EMAIL_DISPATCHER=false (or beside dispatching ones: the
// outbox leases each message to one dispatcher). Graceful stop on SIGTERM, like the API process.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { composeWorkerProcess } from './composition/worker-process.ts';
import { resolveSecretKey } from './composition/secret-key.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { loadConfiguredEmailTemplates } from './composition/email-templates.ts';
import type { EmailTemplateFiles } from './email/templates/index.ts';
import { registerErrorHandling } from './http/plugins/errors.ts';
import { closeConnectionsOnShutdown } from './http/plugins/graceful-close.ts';
import { registerMetrics } from './http/plugins/metrics.ts';
import { registerServiceRoutes } from './http/routes/service.ts';
import { createLogger } from './logger.ts';
import { prepareShutdown } from './shutdown.ts';

let config: Config;
let emailTemplates: EmailTemplateFiles | undefined;
try {
  config = loadConfig();
  // Here, beside the variables, so a bad template file is reported as they are, before anything starts.
  emailTemplates = loadConfiguredEmailTemplates(config);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Latchkey worker cannot start, ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ level: config.logging.level }).child({ role: 'worker' });
const composition = await composeWorkerProcess(config, logger, {
  secretKey: resolveSecretKey(config),
  emailTemplates,
});

// Optional, for orchestrators and Prometheus: /health/live, /health/ready (the database) and /metrics.
let app: FastifyInstance | undefined;
if (config.worker.healthPort !== undefined) {
  app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    disableRequestLogging: true,
    // Answered by closeConnectionsOnShutdown instead, in the service's error shape.
    return503OnClosing: false,
  });
  registerErrorHandling(app);
  closeConnectionsOnShutdown(app);
  if (composition.metrics !== undefined) await registerMetrics(app, composition.metrics);
  registerServiceRoutes(app, composition.service);
  await app.listen({ host: config.http.host, port: config.worker.healthPort });
}

const stopEmailDelivery = composition.startEmailDelivery();
const stopWebhookDelivery = composition.startWebhookDelivery();
const stopHousekeeping = composition.startHousekeeping();
logger.info(
  {
    database: composition.database.kind === 'pglite' ? `embedded (${config.dataDir})` : 'postgresql',
    email:
      config.email.smtp !== undefined
        ? `smtp ${config.email.smtp.host}:${config.email.smtp.port}`
        : 'console',
    http: config.worker.healthPort ?? 'none',
  },
  'Latchkey worker is running',
);

const shutDown = prepareShutdown({
  logger,
  stoppedMessage: 'Latchkey worker stopped',
  steps: [
    { name: 'email delivery', run: stopEmailDelivery },
    { name: 'webhook delivery', run: stopWebhookDelivery },
    { name: 'housekeeping', run: stopHousekeeping },
    { name: 'http', run: async () => void (await app?.close()) },
    { name: 'connections', run: () => composition.close() },
  ],
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void shutDown(signal).then((code) => process.exit(code)));
}
