import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { migrateDatabase } from '../../src/storage/postgres/migrate.ts';
import { testDatabaseUrl, testRedisUrl } from '../support/backends.ts';
import { createThrowawayDatabase } from '../support/database.ts';
import { HttpClient } from '../support/http-client.ts';
import {
  generatePassword,
  logIn,
  raceOneResetToken,
  readEmailedToken,
  registerVerifiedAccount,
} from '../support/journeys.ts';
import { startTestService, type TestService } from '../support/service.ts';
import {
  pgbouncerAvailable,
  pgbouncerPath,
  startThrowawayPgBouncer,
  type ThrowawayPgBouncer,
} from '../support/throwaway-pgbouncer.ts';

// PostgreSQL (TEST_DATABASE_URL) and Redis are required under CI=true (backends.ts), and so is PgBouncer: a CI
// machine without it fails here instead of skipping.
const databaseUrl = testDatabaseUrl();
const redisUrl = testRedisUrl();
if (databaseUrl !== undefined && redisUrl !== undefined && !pgbouncerAvailable())
  throw new Error(`${pgbouncerPath} is missing: apt-get install -y pgbouncer`);

/** Two client connections of their own through `url` (no pool in between), closed by the caller. */
async function connectTwice(url: string): Promise<[pg.Client, pg.Client]> {
  const first = new pg.Client({ connectionString: url });
  const second = new pg.Client({ connectionString: url });
  await first.connect();
  await second.connect();
  return [first, second];
}

if (databaseUrl !== undefined && redisUrl !== undefined) {
  describe('behind PgBouncer in transaction pooling mode (2 server connections for the whole service)', () => {
    let bouncer: ThrowawayPgBouncer;
    let database: { url: string; drop(): Promise<void> };
    let service: TestService;
    before(async () => {
      bouncer = await startThrowawayPgBouncer({ serverUrl: databaseUrl, serverConnections: 2 });
      database = await createThrowawayDatabase({ namePrefix: 'latchkey_pgbouncer' });
      service = await startTestService('postgres+redis', {
        DATABASE_URL: bouncer.routeThrough(database.url),
        DATABASE_POOL_SIZE: '10',
      });
    });
    after(async () => {
      await service?.close();
      await bouncer?.close();
      await database?.drop();
    });

    test('the service reaches its database through PgBouncer only', async () => {
      assert.equal(new URL(service.config.database.url ?? '').port, String(bouncer.port));
      const [row] = await service.query<{ migrations: string }>(
        'select count(*) as migrations from drizzle.__drizzle_migrations',
      );
      assert.ok(Number(row?.migrations) > 0, 'the migrations ran through PgBouncer');
    });

    test('register, verify by the emailed link, log in, who-am-I, reset, log out', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const client = new HttpClient(service.baseUrl);
      const token = await logIn(service.baseUrl, account);
      const me = await client.get('/me', { bearer: token });
      assert.equal(me.status, 200);
      assert.equal(me.json.email, account.email);

      assert.equal(
        (await client.post('/request-password-reset', { json: { email: account.email } })).status,
        202,
      );
      const resetToken = await readEmailedToken(service.smtp, account.email, '/reset-password');
      const newPassword = generatePassword();
      const reset = await client.post('/reset-password', {
        json: { token: resetToken, new_password: newPassword },
      });
      assert.equal(reset.status, 200);
      const oldLogin = await client.post('/login', { json: account });
      assert.equal(oldLogin.status, 401, 'the old password no longer works');
      const newToken = await logIn(service.baseUrl, { email: account.email, password: newPassword });

      assert.equal((await client.post('/logout', { bearer: newToken })).status, 200);
      assert.equal((await client.get('/me', { bearer: newToken })).status, 401, 'logged out');
    });

    test('a reset token works once when twenty requests race for it through two server connections', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const client = new HttpClient(service.baseUrl);
      assert.equal(
        (await client.post('/request-password-reset', { json: { email: account.email } })).status,
        202,
      );
      const token = await readEmailedToken(service.smtp, account.email, '/reset-password');
      const winningPassword = await raceOneResetToken(service.baseUrl, token, 20);
      await logIn(service.baseUrl, { email: account.email, password: winningPassword });
    });

    test("a transaction's statement timeout stays in it: the server connections keep no limit afterwards", async () => {
      // Every request above ran its transactions with SET LOCAL statement_timeout; a session-level SET would show
      // on whichever server connection a later client gets.
      const [first, second] = await connectTwice(bouncer.routeThrough(database.url));
      try {
        for (const client of [first, second]) {
          const { rows } = await client.query<{ statement_timeout: string }>('show statement_timeout');
          assert.equal(rows[0]?.statement_timeout, '0');
        }
      } finally {
        await first.end();
        await second.end();
      }
    });
  });

  describe('a PgBouncer with one server connection shows session state leaking across clients', () => {
    let bouncer: ThrowawayPgBouncer;
    let database: { url: string; drop(): Promise<void> };
    before(async () => {
      bouncer = await startThrowawayPgBouncer({ serverUrl: databaseUrl, serverConnections: 1 });
      database = await createThrowawayDatabase({ namePrefix: 'latchkey_pgbouncer' });
    });
    after(async () => {
      await bouncer?.close();
      await database?.drop();
    });

    test('a session-level SET of one client is what another client finds, so tests through it catch such state', async () => {
      const [first, second] = await connectTwice(bouncer.routeThrough(database.url));
      try {
        await first.query('set statement_timeout = 1234');
        const { rows } = await second.query<{ statement_timeout: string }>('show statement_timeout');
        assert.equal(rows[0]?.statement_timeout, '1234ms');
        await second.query('reset statement_timeout');
      } finally {
        await first.end();
        await second.end();
      }
    });

    test('a named prepared statement of one client collides with the same name from another', async () => {
      const [first, second] = await connectTwice(bouncer.routeThrough(database.url));
      try {
        const named = { name: 'latchkey_probe', text: 'select $1::int as n', values: [1] };
        await first.query(named);
        await assert.rejects(second.query(named), /already exists/);
      } finally {
        await first.end();
        await second.end();
      }
    });

    test('the migrations run through it and leave no advisory lock behind (transaction-level lock)', async () => {
      const pool = new pg.Pool({ connectionString: bouncer.routeThrough(database.url), max: 2 });
      try {
        await migrateDatabase(pool);
        await migrateDatabase(pool);
        const direct = new pg.Client({ connectionString: database.url });
        await direct.connect();
        try {
          const { rows } = await direct.query<{ held: string }>(
            "select count(*) as held from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
          );
          assert.equal(Number(rows[0]?.held), 0);
        } finally {
          await direct.end();
        }
      } finally {
        await pool.end();
      }
    });
  });
}
