import type { Database } from '../../src/storage/postgres/database.ts';
import { availableDatabaseKinds, openTestDatabase, type DatabaseKind } from '../support/database.ts';
import { openTestRedis, type TestRedis } from '../support/redis.ts';

/** A backend a contract runs on: the name its suite shows and how to open a fixture on it, closed by close(). */
export interface Backend<Fixture> {
  readonly name: string;
  open(): Promise<Fixture & { close(): Promise<void> }>;
}

/** The memory adapters: nothing to open, nothing to close. */
export function memoryBackend<Fixture>(build: () => Fixture): Backend<Fixture> {
  return { name: 'memory', open: async () => ({ ...build(), async close() {} }) };
}

const databaseNames: Record<DatabaseKind, string> = {
  pglite: 'PostgreSQL (embedded PGlite)',
  postgres: 'PostgreSQL',
};

/** Every database engine available (PGlite always, PostgreSQL when configured), each fixture on a migrated, empty database. */
export function databaseBackends<Fixture>(build: (database: Database) => Fixture): Backend<Fixture>[] {
  return availableDatabaseKinds().map((kind) => ({
    name: databaseNames[kind],
    async open() {
      const database = await openTestDatabase(kind);
      return { ...build(database), close: () => database.close() };
    },
  }));
}

/** The test Redis at `url`, each fixture under a key prefix of its own (see openTestRedis). */
export function redisBackend<Fixture>(url: string, build: (redis: TestRedis) => Fixture): Backend<Fixture> {
  return {
    name: 'Redis',
    async open() {
      const redis = openTestRedis(url);
      return { ...build(redis), close: () => redis.close() };
    },
  };
}
