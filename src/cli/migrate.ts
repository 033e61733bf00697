// `npm run migrate`: applies the committed migrations to DATABASE_URL (or the embedded database) and exits.
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../storage/postgres/database.ts';
import { migrateDatabase } from '../storage/postgres/migrate.ts';

try {
  const config = loadConfig();
  const database = await openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.dataDir,
    poolSize: 2,
  });
  try {
    await migrateDatabase(database.pool);
    process.stdout.write(
      `migrations applied (${database.kind === 'pglite' ? config.dataDir : 'DATABASE_URL'})\n`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
