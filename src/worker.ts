// Worker process entry (`npm run worker`): delivers the email outbox and deletes expired rows; answers no API
// request. Run it beside API instances started with EMAIL_DISPATCHER=false (or beside dispatching ones: the
// outbox leases each message to one dispatcher). Graceful stop on SIGTERM, like the API process.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createDeps } from './deps.ts';
import { registerErrorHandling } from './http/plugins/errors.ts';
import { closeConnectionsOnShutdown } from './http/plugins/graceful-close.ts';
import { registerMetrics } from './http/plugins/metrics.ts';
import { registerServiceRoutes } from './http/routes/service.ts';
import { createLogger } from './logger.ts';

const shutdownTimeoutMilliseconds = 15_000;

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Latchkey worker cannot start, ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ level: config.logLevel }).child({ role: 'worker' });
// Sessions and rate limits belong to the API: the worker does not connect to Redis at all, so a Redis outage
// never touches mail delivery.
const deps = await createDeps({ ...config, redisUrl: undefined }, logger);

// Optional, for orchestrators and Prometheus: /health/live, /health/ready (the database) and /metrics.
let app: FastifyInstance | undefined;
if (config.workerHealthPort !== undefined) {
  app = Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true });
  registerErrorHandling(app);
  closeConnectionsOnShutdown(app);
  if (deps.http.metrics !== undefined) await registerMetrics(app, deps.http.metrics);
  registerServiceRoutes(app, deps.http);
  await app.listen({ host: config.host, port: config.workerHealthPort });
}

const stopEmailDelivery = deps.startEmailDelivery();
const stopHousekeeping = deps.startHousekeeping();
logger.info(
  {
    database: deps.database.kind === 'pglite' ? `embedded (${config.dataDir})` : 'postgresql',
    email: config.smtp !== undefined ? `smtp ${config.smtp.host}:${config.smtp.port}` : 'console',
    http: config.workerHealthPort ?? 'none',
  },
  'Latchkey worker is running',
);

let stopping = false;
async function shutDown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const forced = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, shutdownTimeoutMilliseconds);
  forced.unref();
  try {
    await stopEmailDelivery();
    await stopHousekeeping();
    await app?.close();
    await deps.close();
    clearTimeout(forced);
    logger.info('Latchkey worker stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutDown('SIGTERM'));
process.once('SIGINT', () => void shutDown('SIGINT'));
