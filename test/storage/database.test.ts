import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from '../../src/storage/postgres/drizzle.ts';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { DependencyUnavailableError, FlowError } from '../../src/flows/errors.ts';
import { openDatabase, type Database } from '../../src/storage/postgres/database.ts';
import { migrateDatabase } from '../../src/storage/postgres/migrate.ts';
import { PostgresTokenStore } from '../../src/storage/postgres/token-store.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { PostgresUserStore } from '../../src/storage/postgres/user-store.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { testDatabaseUrl } from '../support/backends.ts';
import { availableDatabaseKinds, createThrowawayDatabase, openTestDatabase } from '../support/database.ts';

const box = createSecretBox('a secret key for the storage tests only', 'email-outbox');

function isUnavailable(error: unknown): boolean {
  assert.ok(error instanceof DependencyUnavailableError, `rejected with ${String(error)}, not an outage`);
  return true;
}

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
      await migrateDatabase(database.pool);
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

    test('a transaction whose connection the server ends (57P01, as in a restart) rejects with DependencyUnavailableError', async () => {
      const transactor = new PostgresTransactor(database.db, { box, messageIdDomain: 'example.com' });
      await assert.rejects(
        transactor.runInTransaction(async ({ users }) => {
          const { rows } = await admin.query<{ pid: number }>(
            `select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
             and state like 'idle in transaction%'`,
          );
          await Promise.all(rows.map((row) => admin.query('select pg_terminate_backend($1)', [row.pid])));
          await delay(200);
          return users.findUserById(randomUUID());
        }),
        isUnavailable,
      );
      assert.equal(
        await new PostgresUserStore(database.db).findUserByEmailKey('nobody@example.com'),
        null,
        'the next request is served again on a new connection',
      );
    });

    test('a failure that is not an outage passes unchanged: a refused statement, a flow refusal', async () => {
      const tokens = new PostgresTokenStore(database.db);
      // No such user: a foreign-key violation (23503) is a bug to report as a 500, not an outage.
      const violation = await tokens
        .createToken({
          tokenHash: 'h',
          purpose: 'password_reset',
          userId: randomUUID(),
          expiresAt: new Date(),
        })
        .then(
          () => assert.fail('the token was stored for a missing user'),
          (error: unknown) => error,
        );
      assert.ok(!(violation instanceof DependencyUnavailableError), 'a refused statement read as an outage');
      const transactor = new PostgresTransactor(database.db, { box, messageIdDomain: 'example.com' });
      const refusal = new FlowError('invalid_token');
      await assert.rejects(
        transactor.runInTransaction(async () => {
          throw refusal;
        }),
        (error) => error === refusal,
      );
    });
  },
);

for (const kind of availableDatabaseKinds()) {
  describe(`transactions whose connection dies before they begin (${kind})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(kind);
    });
    after(async () => {
      await database?.close();
    });

    // A connection that dies between checkout and `begin` (a database restart at the wrong moment): each one
    // used to keep its pooled client for good, so a handful of them (one, embedded) left nothing to serve with.
    test('every failed begin gives its connection back: the pool still serves after more failures than it has connections', async () => {
      let failuresLeft = 12;
      const dropConnectionAtBegin = (client: pg.PoolClient): void => {
        if (failuresLeft === 0) return;
        failuresLeft -= 1;
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        client.query = ((first: unknown, ...rest: unknown[]): unknown => {
          const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
          if (typeof text === 'string' && /^begin\b/i.test(text.trim())) {
            client.query = query as typeof client.query;
            (
              client as unknown as { connection: { stream: { destroy(): void } } }
            ).connection.stream.destroy();
          }
          return query(first, ...rest);
        }) as typeof client.query;
      };
      database.pool.on('acquire', dropConnectionAtBegin);
      try {
        for (let attempt = 0; attempt < 12; attempt += 1) {
          await assert.rejects(database.db.transaction(async (tx) => tx.execute(sql`select 1`)));
        }
      } finally {
        database.pool.off('acquire', dropConnectionAtBegin);
      }
      const one = await database.db.transaction(async (tx) =>
        tx.execute<{ one: number }>(sql`select 1 as one`),
      );
      assert.equal(one.rows[0]?.one, 1, 'a transaction after the failures is served');
      assert.equal(
        database.pool.totalCount - database.pool.idleCount,
        0,
        'no connection is left checked out',
      );
    });
  });
}
