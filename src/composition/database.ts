import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { HealthCheck } from '../flows/ports.ts';
import { createSecretBox, type SecretBox } from '../security/secret-box.ts';
import { openDatabase, type Database } from '../storage/postgres/database.ts';
import type { EmbeddedServer } from '../storage/postgres/embedded-server.ts';
import { migrateDatabase } from '../storage/postgres/migrate.ts';

/** PostgreSQL at DATABASE_URL or the embedded database in DATA_DIR, with every committed migration applied. */
export async function openMigratedDatabase(options: {
  readonly config: Pick<Config, 'database' | 'dataDir'>;
  readonly logger: Logger;
  /** Embedded mode: a server the process entry already started, so it came up while the modules loaded. */
  readonly embeddedServer?: EmbeddedServer | undefined;
}): Promise<Database> {
  const { config, logger } = options;
  const database = await openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.dataDir,
    poolSize: config.database.poolSize,
    statementTimeoutMilliseconds: config.database.statementTimeoutMilliseconds,
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost'),
    ...(options.embeddedServer === undefined ? {} : { embeddedServer: options.embeddedServer }),
  });
  try {
    await migrateDatabase(database.pool);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

export function createDatabaseHealthCheck(database: Database): HealthCheck {
  return { name: 'database', check: async () => void (await database.pool.query('select 1')) };
}

/**
 * Seals queued emails (links carry live tokens); the API seals, whichever process dispatches opens. Mail sealed
 * under a key of SECRET_KEY_PREVIOUS still opens, so a rotation loses none.
 */
export function createOutboxSecretBox(
  config: Pick<Config, 'previousSecretKeys'>,
  secretKey: string,
): SecretBox {
  return createSecretBox([secretKey, ...config.previousSecretKeys], 'email-outbox');
}
