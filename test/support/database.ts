import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/storage/postgres/database.ts';
import { migrateDatabase } from '../../src/storage/postgres/migrate.ts';
import { testDatabaseUrl, uniqueRunId } from './backends.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** The database engines a storage contract runs on: PGlite always, PostgreSQL when configured (always in CI). */
export function availableDatabaseKinds(): DatabaseKind[] {
  return testDatabaseUrl() === undefined ? ['pglite'] : ['pglite', 'postgres'];
}

/**
 * A throwaway database on the real server (TEST_DATABASE_URL's unless `adminUrl` is given), dropped by the
 * returned function.
 */
export async function createThrowawayDatabase(
  options: { adminUrl?: string; namePrefix?: string } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = options.adminUrl ?? testDatabaseUrl();
  if (adminUrl === undefined) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${options.namePrefix ?? 'latchkey_test'}_${uniqueRunId()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A migrated, empty database of that kind, removed by close(). */
export async function openTestDatabase(kind: DatabaseKind): Promise<Database> {
  if (kind === 'pglite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-db-'));
    const database = await openDatabase({ databaseUrl: undefined, dataDir, poolSize: 4 });
    await migrateDatabase(database.pool);
    return {
      ...database,
      async close() {
        await database.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const throwaway = await createThrowawayDatabase();
  const database = await openDatabase({ databaseUrl: throwaway.url, dataDir: tmpdir(), poolSize: 10 });
  await migrateDatabase(database.pool);
  return {
    ...database,
    async close() {
      await database.close();
      await throwaway.drop();
    },
  };
}

/** Inserts a user straight into the table, for store tests that need a row to point at. */
export async function insertTestUser(
  database: Database,
  overrides: { email?: string; passwordHash?: string } = {},
): Promise<string> {
  const email = overrides.email ?? `user-${uniqueRunId()}@example.com`;
  const result = await database.pool.query<{ id: string }>(
    'insert into users (email, email_key, password_hash) values ($1, $2, $3) returning id',
    [email, email.toLowerCase(), overrides.passwordHash ?? 'x'],
  );
  const id = result.rows[0]?.id;
  if (id === undefined) throw new Error('insert returned no id');
  return id;
}
