import { drizzle, migrate } from './drizzle.ts';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const migrationsFolder = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** Any fixed number: several instances starting together apply the migrations one at a time. */
const migrationLockId = 7_311_802_044;

/** Applies the committed drizzle-kit migrations; used by start-up, `npm run migrate` and the tests alike. */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [migrationLockId]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [migrationLockId]);
    }
  } finally {
    client.release();
  }
}
