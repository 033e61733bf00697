import { readMigrationFiles } from './drizzle.ts';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const migrationsFolder = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** Any fixed number: several instances starting together apply the migrations one at a time. */
const migrationLockId = 7_311_802_044;

/**
 * Applies the committed drizzle-kit migrations; used by start-up, `npm run migrate` and the tests alike.
 *
 * Everything (the lock, the bookkeeping table, the migrations) happens in one transaction, and the lock is a
 * transaction-level one (pg_advisory_xact_lock): behind PgBouncer in transaction pooling mode a session-level
 * lock would be taken on one server connection and released, or not, on another, and a leaked lock would stop
 * every later start-up. The transaction ends and the lock goes with it, whatever happens to the connection.
 * The bookkeeping is drizzle's own (drizzle.__drizzle_migrations: hash, created_at = the folder's timestamp),
 * so databases migrated before keep their history.
 */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder });
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('begin');
    // A migration may rewrite a large table: DATABASE_STATEMENT_TIMEOUT_MS is for requests, not for this.
    await client.query('set local statement_timeout = 0');
    await client.query('select pg_advisory_xact_lock($1)', [migrationLockId]);
    await client.query('create schema if not exists drizzle');
    await client.query(
      'create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)',
    );
    const applied = await client.query<{ created_at: string }>(
      'select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1',
    );
    const lastAppliedMillis = applied.rows[0] === undefined ? undefined : Number(applied.rows[0].created_at);
    for (const migration of migrations) {
      if (lastAppliedMillis !== undefined && lastAppliedMillis >= migration.folderMillis) continue;
      for (const statement of migration.sql) await client.query(statement);
      await client.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [
        migration.hash,
        migration.folderMillis,
      ]);
    }
    await client.query('commit');
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    // A connection whose transaction failed is not handed out again.
    client.release(failure);
  }
}
