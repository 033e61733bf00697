// Process entry: configuration, dependencies, HTTP, the mail dispatcher, and a graceful stop on SIGTERM.
import './thread-pool.ts';
import { isWorkerSupervisor, superviseWorkers } from './cluster.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { loadConfiguredEmailTemplates } from './composition/email-templates.ts';
import type { EmailTemplateFiles } from './email/templates/index.ts';
import { resolveSecretKey } from './composition/secret-key.ts';
import { createLogger } from './logger.ts';
import { prepareShutdown } from './shutdown.ts';
import { startEmbeddedServer } from './storage/postgres/embedded-server.ts';

let config: Config;
let emailTemplates: EmailTemplateFiles | undefined;
try {
  config = loadConfig();
  // Here, beside the variables, so a bad template file is reported as they are, before anything starts.
  emailTemplates = loadConfiguredEmailTemplates(config);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Latchkey cannot start, ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ level: config.logging.level });
if (isWorkerSupervisor(config.cluster.workers)) {
  const supervisor = superviseWorkers(config.cluster.workers, logger);
  process.once('SIGTERM', () => supervisor.stop('SIGTERM'));
  process.once('SIGINT', () => supervisor.stop('SIGINT'));
  process.exit(await supervisor.exited);
}
// Embedded mode: PGlite starts in its worker thread, on another core, while the rest of the service loads: the
// heavy modules are imported only now (about half of the start-up, docs/performance.md).
const embeddedServer = config.database.url === undefined ? startEmbeddedServer(config.dataDir) : undefined;
const secretKey = resolveSecretKey(config);
const [{ composeApiProcess }, { buildApp }] = await Promise.all([
  import('./composition/api-process.ts'),
  import('./app.ts'),
]);
const composition = await composeApiProcess(config, logger, { secretKey, embeddedServer, emailTemplates });
const app = await buildApp(composition.http, { logger, trustProxy: config.http.trustProxy });
await app.listen({ host: config.http.host, port: config.http.port });
const stopEmailDelivery = config.email.dispatcher.enabled ? composition.startEmailDelivery() : async () => {};
const stopWebhookDelivery = config.email.dispatcher.enabled
  ? composition.startWebhookDelivery()
  : async () => {};
const stopHousekeeping = composition.startHousekeeping();
logger.info(
  {
    url: config.http.appBaseUrl.href,
    database: composition.database.kind === 'pglite' ? `embedded (${config.dataDir})` : 'postgresql',
    sessions: config.redis !== undefined ? 'redis' : 'database',
    email:
      config.email.smtp !== undefined
        ? `smtp ${config.email.smtp.host}:${config.email.smtp.port}`
        : 'console',
  },
  'Latchkey is listening',
);

const shutDown = prepareShutdown({
  logger,
  stoppedMessage: 'Latchkey stopped',
  steps: [
    { name: 'http', run: () => app.close() },
    { name: 'email delivery', run: stopEmailDelivery },
    { name: 'webhook delivery', run: stopWebhookDelivery },
    { name: 'housekeeping', run: stopHousekeeping },
    { name: 'connections', run: () => composition.close() },
  ],
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void shutDown(signal).then((code) => process.exit(code)));
}
