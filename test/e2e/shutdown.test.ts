import assert from 'node:assert/strict';
import pg from 'pg';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, uniqueEmail } from '../support/journeys.ts';
import { testOnSharedServers } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

testOnSharedServers(
  'graceful shutdown on SIGTERM (a real process)',
  { name: 'shutdown', redis: false },
  async (t, stack) => {
    await t.test(
      'stops accepting, finishes the request in flight, stops the dispatcher, closes its pools and exits 0',
      async (t) => {
        const service = await stack.startInstance('api');
        const client = new HttpClient(service.baseUrl);
        const email = uniqueEmail('in-flight');

        // Hold the request in flight: the users table accepts reads but no insert until the lock goes.
        const locker = new pg.Client({ connectionString: stack.databaseUrl });
        await locker.connect();
        t.after(() => locker.end());
        await locker.query('begin');
        await locker.query('lock table users in share mode');
        const inFlight = client.post('/register', { json: { email, password: generatePassword() } });
        await waitUntil(
          'the registration waits for the lock',
          async () =>
            (
              await locker.query<{ waiting: string }>(
                `select count(*) as waiting from pg_stat_activity
               where wait_event_type = 'Lock' and datname = current_database()`,
              )
            ).rows[0]?.waiting === '1',
          { timeoutMilliseconds: 10_000 },
        );

        const signalledAt = Date.now();
        service.child.kill('SIGTERM');
        await service.waitForOutput(/"msg":"shutting down"/);
        // New work is refused while the request in flight runs on: a new connection is not accepted.
        await assert.rejects(
          fetch(`${service.baseUrl}/health/live`, { signal: AbortSignal.timeout(2_000) }),
          'a new connection was accepted during shutdown',
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(service.hasExited(), false, 'exited with a request in flight');

        await locker.query('commit');
        const answer = await inFlight;
        assert.equal(answer.status, 200, `the request in flight was answered ${answer.status}`);
        const exit = await service.exited;
        const stopMilliseconds = Date.now() - signalledAt;
        assert.deepEqual(exit, { code: 0, signal: null }, service.output());
        assert.ok(stopMilliseconds < 10_000, `took ${stopMilliseconds} ms`);
        const messages = service.logRecords().map((record) => record.msg);
        assert.ok(messages.includes('Latchkey stopped'), 'no clean stop logged');
        assert.ok(!messages.includes('shutdown took too long; exiting'));

        const rows = await locker.query('select 1 from users where email = $1', [email]);
        assert.equal(rows.rowCount, 1, 'the request answered 200 during shutdown is in the database');
      },
    );
  },
);
