import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from '../../src/storage/postgres/drizzle.ts';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/storage/postgres/database.ts';
import { testDatabaseUrl } from '../support/backends.ts';
import { createThrowawayDatabase } from '../support/database.ts';

describe(
  'PostgreSQL connections that the server ends',
  { skip: testDatabaseUrl() === undefined ? 'needs TEST_DATABASE_URL' : false },
  () => {
    let throwaway: Awaited<ReturnType<typeof createThrowawayDatabase>>;
    let database: Database;
    let admin: pg.Client;
    const poolErrors: Error[] = [];

    before(async () => {
      throwaway = await createThrowawayDatabase();
      database = await openDatabase({
        databaseUrl: throwaway.url,
        dataDir: '/nonexistent',
        poolSize: 4,
        onPoolError: (error) => poolErrors.push(error),
      });
      admin = new pg.Client({ connectionString: throwaway.url });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await database?.close();
      await throwaway?.drop();
    });

    /** What a server restart does to a session: ends it, with 57P01, whatever it is doing. */
    async function terminateBackend(pid: number): Promise<void> {
      await admin.query('select pg_terminate_backend($1)', [pid]);
    }

    // Without a listener on every client, the 'error' event of a checked-out client ended between two
    // statements is unhandled, and kills the process: an uncaught exception fails this test.
    test('a transaction whose connection is ended between two statements fails; the process lives on', async () => {
      await assert.rejects(
        database.db.transaction(async (tx) => {
          const result = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
          await terminateBackend(result.rows[0]!.pid);
          // The termination arrives while no statement runs.
          await delay(200);
          await tx.execute(sql`select 1`);
        }),
      );
      const result = await database.pool.query<{ one: number }>('select 1 as one');
      assert.equal(result.rows[0]?.one, 1, 'the pool serves again with a new connection');
    });

    test('an idle pooled connection ended by the server is reported and replaced', async () => {
      const result = await database.pool.query<{ pid: number }>('select pg_backend_pid() as pid');
      await terminateBackend(result.rows[0]!.pid);
      await delay(200);
      assert.ok(poolErrors.length >= 1, 'the pool did not report the lost connection');
      assert.equal((await database.pool.query('select 1')).rowCount, 1);
    });
  },
);
