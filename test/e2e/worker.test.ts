import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, runWithConcurrency, uniqueEmail } from '../support/journeys.ts';
import { findFreePort } from '../support/ports.ts';
import { testOnSharedServers } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';
import pg from 'pg';

const emailCount = 150;

testOnSharedServers(
  'email dispatch in worker processes (`npm run worker`)',
  { name: 'worker', redis: false, env: { EMAIL_DISPATCH_POLL_MS: '100' } },
  async (t, stack) => {
    const { smtp } = stack;
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
    stack.closeBeforeStack(() => pool.end());
    const api = await stack.startInstance('api', { env: { EMAIL_DISPATCHER: 'false' } });
    const workerHealthPort = await findFreePort();
    const workers = await Promise.all(
      [1, 2, 3].map((index) =>
        stack.startInstance(`worker-${index}`, {
          role: 'worker',
          env: index === 1 ? { WORKER_HEALTH_PORT: String(workerHealthPort) } : {},
        }),
      ),
    );

    await t.test('`npm run worker` starts the worker entry point', () => {
      const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        scripts: Record<string, string>;
      };
      assert.equal(manifest.scripts.worker, 'node src/worker.ts');
    });

    await t.test('three dispatchers in three processes deliver every email, none twice', async () => {
      const client = new HttpClient(api.baseUrl);
      const addresses = Array.from({ length: emailCount }, () => uniqueEmail('worker'));
      const answers = await runWithConcurrency(emailCount, 10, (index) =>
        client.post('/register', { json: { email: addresses[index], password: generatePassword() } }),
      );
      assert.deepEqual(
        answers.map((answer) => answer.status).filter((status) => status !== 200),
        [],
      );
      // The API process does not send: every email is the workers' job.
      assert.equal(
        api.logRecords().filter((record) => record.msg === 'email sent').length,
        0,
        'the API process sent mail with EMAIL_DISPATCHER=false',
      );

      await waitUntil(
        'every email is sent and recorded',
        async () => {
          const rows = await pool.query<{ pending: string }>(
            `select count(*) as pending from email_outbox where status <> 'sent'`,
          );
          return smtp.messages.length >= emailCount && rows.rows[0]?.pending === '0';
        },
        { timeoutMilliseconds: 60_000, intervalMilliseconds: 100 },
      );
      // A few more polls of every worker: nothing goes out again.
      await new Promise((resolve) => setTimeout(resolve, 500));

      const perMessageId = new Map<string, number>();
      for (const email of smtp.messages) {
        perMessageId.set(email.messageId, (perMessageId.get(email.messageId) ?? 0) + 1);
      }
      const duplicated = [...perMessageId].filter(([, count]) => count > 1);
      assert.deepEqual(duplicated, [], 'a message went out twice');
      assert.equal(perMessageId.size, emailCount);
      const recipients = new Set(smtp.messages.map((email) => email.to.toLowerCase()));
      assert.deepEqual([...recipients].sort(), [...addresses].sort());

      const sentByWorker = workers.map(
        (worker) => worker.logRecords().filter((record) => record.msg === 'email sent').length,
      );
      assert.equal(
        sentByWorker.reduce((sum, count) => sum + count, 0),
        emailCount,
        `sent per worker: ${sentByWorker.join(', ')}`,
      );
    });

    await t.test(
      'a worker with WORKER_HEALTH_PORT answers health checks and serves its delivery metrics',
      async () => {
        const base = `http://127.0.0.1:${workerHealthPort}`;
        const client = new HttpClient(base);
        assert.equal((await client.get('/health/live')).status, 200);
        const ready = await client.get('/health/ready');
        assert.equal(ready.status, 200);
        assert.deepEqual(ready.json.checks, { database: 'ok' }, 'a worker does not use Redis');
        const metrics = await client.get('/metrics');
        assert.equal(metrics.status, 200);
        assert.match(metrics.text, /^latchkey_email_deliveries_total\{outcome="sent"\} \d+$/m);
        assert.match(metrics.text, /^latchkey_outbox_depth 0$/m);
      },
    );

    await t.test('a worker deletes expired rows on its schedule (CLEANUP_INTERVAL_SECONDS)', async () => {
      const userId = (
        await pool.query<{ id: string }>(
          `insert into users (email, email_key, password_hash) values ($1, $1, 'x') returning id`,
          [uniqueEmail('cleanup')],
        )
      ).rows[0]!.id;
      await pool.query(
        `insert into user_tokens (token_hash, purpose, user_id, expires_at)
         values ('expired-long-ago', 'password_reset', $1, now() - interval '2 days'),
                ('still-valid', 'password_reset', $1, now() + interval '1 hour')`,
        [userId],
      );
      await pool.query(
        `insert into email_outbox (message_id, recipient, template, status, created_at, next_attempt_at, sent_at)
         values ('<old@latchkey.test>', 'someone@example.com', 'verify_email', 'sent',
                 now() - interval '8 days', now() - interval '8 days', now() - interval '8 days')`,
      );
      const cleaner = await stack.startInstance('cleaner', {
        role: 'worker',
        env: { CLEANUP_INTERVAL_SECONDS: '1' },
      });
      await waitUntil(
        'the expired token and the week-old email are deleted',
        async () => {
          const tokens = await pool.query<{ token_hash: string }>(
            'select token_hash from user_tokens where user_id = $1',
            [userId],
          );
          const old = await pool.query(`select 1 from email_outbox where message_id = '<old@latchkey.test>'`);
          return tokens.rows.map((row) => row.token_hash).join() === 'still-valid' && old.rowCount === 0;
        },
        { timeoutMilliseconds: 10_000, intervalMilliseconds: 100 },
      );
      assert.ok(cleaner.logRecords().some((record) => record.msg === 'expired records deleted'));
    });

    await t.test('SIGTERM stops a worker cleanly: exit 0, dispatcher stopped, within seconds', async () => {
      const worker = workers[2]!;
      const startedAt = Date.now();
      const exit = await worker.stop();
      assert.deepEqual({ code: exit.code, forced: exit.forced }, { code: 0, forced: false });
      assert.ok(Date.now() - startedAt < 5_000, `stopped in ${Date.now() - startedAt} ms`);
      assert.ok(worker.logRecords().some((record) => record.msg === 'Latchkey worker stopped'));
    });
  },
);
