// Process entry: configuration, dependencies, HTTP, the mail dispatcher, and a graceful stop on SIGTERM.
import './thread-pool.ts';
import { isWorkerSupervisor, superviseWorkers } from './cluster.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './logger.ts';
import { startEmbeddedServer } from './storage/postgres/embedded-server.ts';

const shutdownTimeoutMilliseconds = 15_000;

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Latchkey cannot start, ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ level: config.logLevel });
if (isWorkerSupervisor(config.clusterWorkers)) {
  const supervisor = superviseWorkers(config.clusterWorkers, logger);
  process.once('SIGTERM', () => supervisor.stop('SIGTERM'));
  process.once('SIGINT', () => supervisor.stop('SIGINT'));
  process.exit(await supervisor.exited);
}
// Embedded mode: PGlite starts in its worker thread, on another core, while the rest of the service loads: the
// heavy modules are imported only now (about half of the start-up, docs/performance.md).
const embeddedServer = config.databaseUrl === undefined ? startEmbeddedServer(config.dataDir) : undefined;
const [{ createDeps }, { buildApp }] = await Promise.all([import('./deps.ts'), import('./app.ts')]);
const deps = await createDeps(config, logger, { embeddedServer });
const app = await buildApp(deps.http, { logger, trustProxy: config.trustProxy });
await app.listen({ host: config.host, port: config.port });
const stopEmailDelivery = config.emailDispatcherEnabled ? deps.startEmailDelivery() : async () => {};
const stopHousekeeping = deps.startHousekeeping();
logger.info(
  {
    url: config.appBaseUrl.href,
    database: deps.database.kind === 'pglite' ? `embedded (${config.dataDir})` : 'postgresql',
    sessions: config.redisUrl !== undefined ? 'redis' : 'database',
    email: config.smtp !== undefined ? `smtp ${config.smtp.host}:${config.smtp.port}` : 'console',
  },
  'Latchkey is listening',
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
    await app.close();
    await stopEmailDelivery();
    await stopHousekeeping();
    await deps.close();
    clearTimeout(forced);
    logger.info('Latchkey stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutDown('SIGTERM'));
process.once('SIGINT', () => void shutDown('SIGINT'));
