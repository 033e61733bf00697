import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/storage/postgres/database.ts';
import { sql } from '../../src/storage/postgres/drizzle.ts';
import { migrateDatabase } from '../../src/storage/postgres/migrate.ts';
import { isPostgresOutage } from '../../src/storage/postgres/outages.ts';
import { testDatabaseUrl } from '../support/backends.ts';
import { createThrowawayDatabase } from '../support/database.ts';
import { HttpClient } from '../support/http-client.ts';
import { registerVerifiedAccount } from '../support/journeys.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { startThrowawayPgBouncer, type ThrowawayPgBouncer } from '../support/throwaway-pgbouncer.ts';

const timeoutMilliseconds = 500;
/** The limit, plus room for a loaded machine: a hung request would take as long as the lock is held. */
const answerBoundMilliseconds = timeoutMilliseconds + 2_500;

/** Another connection holding `lock table <table>` in an open transaction, until release(). */
async function holdTableLock(databaseUrl: string, table: string): Promise<{ release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  await holder.query('begin');
  await holder.query(`lock table ${table} in access exclusive mode`);
  return {
    async release() {
      await holder.query('rollback');
      await holder.end();
    },
  };
}

async function timeRejection(
  work: () => Promise<unknown>,
): Promise<{ error: unknown; milliseconds: number }> {
  const startedAt = Date.now();
  try {
    await work();
  } catch (error) {
    return { error, milliseconds: Date.now() - startedAt };
  }
  assert.fail('the statement should have been cut by the statement timeout');
}

function findCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Object && depth < 5; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    current = cause;
  }
  return undefined;
}

const serverUrl = testDatabaseUrl();

if (serverUrl !== undefined) {
  for (const route of ['direct', 'through PgBouncer'] as const) {
    describe(`DATABASE_STATEMENT_TIMEOUT_MS against a held lock (PostgreSQL, ${route})`, () => {
      let throwaway: { url: string; drop(): Promise<void> };
      let bouncer: ThrowawayPgBouncer | undefined;
      let database: Database;
      before(async () => {
        throwaway = await createThrowawayDatabase({ namePrefix: 'latchkey_timeout' });
        if (route === 'through PgBouncer')
          bouncer = await startThrowawayPgBouncer({ serverUrl, serverConnections: 2 });
        database = await openDatabase({
          databaseUrl: bouncer === undefined ? throwaway.url : bouncer.routeThrough(throwaway.url),
          dataDir: '/nonexistent',
          poolSize: 4,
          statementTimeoutMilliseconds: timeoutMilliseconds,
        });
        await migrateDatabase(database.pool);
      });
      after(async () => {
        await database?.close();
        await bouncer?.close();
        await throwaway?.drop();
      });

      test('a statement in a transaction is cancelled by the server (57014), an outage to the caller', async () => {
        const lock = await holdTableLock(throwaway.url, 'users');
        try {
          const { error, milliseconds } = await timeRejection(() =>
            database.db.transaction(async (tx) => tx.execute(sql`select count(*) from users`)),
          );
          assert.equal(findCode(error), '57014', String(error));
          assert.ok(isPostgresOutage(error));
          assert.ok(milliseconds < answerBoundMilliseconds, `answered after ${milliseconds} ms`);
        } finally {
          await lock.release();
        }
      });

      test('a statement outside a transaction is cut at the same limit, an outage to the caller', async () => {
        const lock = await holdTableLock(throwaway.url, 'users');
        try {
          const { error, milliseconds } = await timeRejection(() =>
            database.db.execute(sql`select count(*) from users`),
          );
          assert.ok(isPostgresOutage(error), String(error));
          assert.ok(
            milliseconds >= timeoutMilliseconds - 50,
            `cut after ${milliseconds} ms, before the limit`,
          );
          assert.ok(milliseconds < answerBoundMilliseconds, `answered after ${milliseconds} ms`);
        } finally {
          await lock.release();
        }
      });

      test('the limit lives in each transaction only, and the pool serves again once the lock is gone', async () => {
        const inside = await database.db.transaction(async (tx) =>
          tx.execute<{ statement_timeout: string }>(sql`show statement_timeout`),
        );
        assert.equal(inside.rows[0]?.statement_timeout, `${timeoutMilliseconds}ms`);
        const withOptions = await database.db.transaction(
          async (tx) => tx.execute<{ statement_timeout: string }>(sql`show statement_timeout`),
          { isolationLevel: 'serializable' },
        );
        assert.equal(
          withOptions.rows[0]?.statement_timeout,
          `${timeoutMilliseconds}ms`,
          'begin with options too',
        );
        const outside = await database.pool.query<{ statement_timeout: string }>('show statement_timeout');
        assert.equal(outside.rows[0]?.statement_timeout, '0', 'no session-level SET');
        const counted = await database.db.execute<{ count: string }>(
          sql`select count(*) as count from users`,
        );
        assert.equal(counted.rows[0]?.count, '0');
      });
    });
  }

  describe('a request stuck behind a lock is answered 503, not left hanging (postgres+redis)', () => {
    let service: TestService;
    before(async () => {
      service = await startTestService('postgres+redis', {
        DATABASE_STATEMENT_TIMEOUT_MS: String(timeoutMilliseconds),
      });
    });
    after(async () => {
      await service?.close();
    });

    test('login and registration answer 503 service_unavailable while users is locked, then work again', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const client = new HttpClient(service.baseUrl);
      const lock = await holdTableLock(service.config.database.url ?? '', 'users');
      try {
        for (const [path, body] of [
          ['/login', account],
          ['/register', { email: 'stuck@example.com', password: account.password }],
        ] as const) {
          const startedAt = Date.now();
          const answer = await client.post(path, { json: body });
          const milliseconds = Date.now() - startedAt;
          assert.equal(answer.status, 503, `${path}: ${answer.text}`);
          assert.equal(answer.json.code, 'service_unavailable');
          assert.ok(milliseconds < answerBoundMilliseconds, `${path} answered after ${milliseconds} ms`);
        }
      } finally {
        await lock.release();
      }
      assert.equal((await client.post('/login', { json: account })).status, 200);
    });
  });
}
