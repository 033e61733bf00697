import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app.ts';
import { composeApiProcess, type ApiProcess } from '../../src/composition/api-process.ts';
import { resolveSecretKey } from '../../src/composition/secret-key.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { testDatabaseUrl, testRedisUrl, uniqueRunId } from './backends.ts';
import { createThrowawayDatabase } from './database.ts';
import { findFreePort } from './ports.ts';
import { deleteRedisKeys } from './redis.ts';
import { startSmtpCapture } from './smtp-capture.ts';

export type Backend = 'embedded' | 'postgres+redis';

export type SmtpCapture = Awaited<ReturnType<typeof startSmtpCapture>>;

export interface TestService {
  readonly baseUrl: string;
  readonly smtp: SmtpCapture;
  readonly deps: ApiProcess;
  /** Always with a secret key: the service is started with SECRET_KEY set. */
  readonly config: Config & { readonly secretKey: string };
  readonly app: FastifyInstance;
  /** Every line the service logged, for tests that check what logs must never contain. */
  readonly logLines: string[];
  /** Plain SQL on the service's database, for checks a user cannot make through HTTP. */
  query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** The backends to run a suite on: always embedded, and PostgreSQL + Redis when configured (always in CI). */
export function availableBackends(): Backend[] {
  const backends: Backend[] = ['embedded'];
  if (testDatabaseUrl() !== undefined && testRedisUrl() !== undefined) backends.push('postgres+redis');
  return backends;
}

export { findFreePort };

/**
 * Starts the whole service in this process on a free port, with a real SMTP server capturing its mail, on
 * the embedded backend (PGlite in a temp folder, sessions in it) or on the machine's PostgreSQL + Redis (a
 * database and key prefix of its own, removed on close).
 */
export async function startTestService(
  backend: Backend,
  env: Record<string, string> = {},
): Promise<TestService> {
  const smtp = await startSmtpCapture();
  const port = await findFreePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const serviceEnv: Record<string, string> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    APP_BASE_URL: `http://localhost:${port}`,
    DATA_DIR: dataDir,
    SECRET_KEY: `test-secret-${uniqueRunId()}-${uniqueRunId()}-${uniqueRunId()}`,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_SECURE: 'none',
    FROM_EMAIL: 'Latchkey <noreply@latchkey.test>',
    EMAIL_DISPATCH_POLL_MS: '200',
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'info',
  };
  if (backend === 'postgres+redis') {
    const database = await createThrowawayDatabase();
    cleanups.push(() => database.drop());
    const redisUrl = testRedisUrl() ?? '';
    const keyPrefix = `latchkey-test-${uniqueRunId()}:`;
    cleanups.push(() => deleteRedisKeys(redisUrl, keyPrefix));
    Object.assign(serviceEnv, {
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
    });
  }
  Object.assign(serviceEnv, env);

  const loaded = loadConfig(serviceEnv);
  const config = { ...loaded, secretKey: resolveSecretKey(loaded) };
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      callback();
    },
  });
  const logger = createLogger({ level: config.logging.level, destination });
  const deps = await composeApiProcess(config, logger, { secretKey: config.secretKey });
  const app = await buildApp(deps.http, { logger, trustProxy: config.http.trustProxy });
  await app.listen({ host: config.http.host, port: config.http.port });
  const stopEmailDelivery = deps.startEmailDelivery();
  const stopWebhookDelivery = deps.startWebhookDelivery();

  return {
    baseUrl: `http://localhost:${port}`,
    smtp,
    deps,
    config,
    app,
    logLines,
    async query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<Row[]> {
      return (await deps.database.pool.query<Row>(text, values)).rows;
    },
    async close() {
      await app.close();
      await stopEmailDelivery();
      await stopWebhookDelivery();
      await deps.close();
      await smtp.stop();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
