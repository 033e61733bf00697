import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { composeWorkerProcess } from '../../src/composition/worker-process.ts';
import { loadConfig } from '../../src/config.ts';
import { createAdminKey } from '../../src/flows/admin-keys.ts';
import { createLogger } from '../../src/logger.ts';
import { testDatabaseUrl, uniqueRunId } from '../support/backends.ts';
import { createThrowawayDatabase } from '../support/database.ts';
import { HttpClient } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount } from '../support/journeys.ts';
import { findFreePort } from '../support/ports.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import { waitUntil } from '../support/wait.ts';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

interface WebhookBody {
  type: string;
  timestamp: string;
  data: { user_id: string };
}

/** Verifies one attempt with the standardwebhooks package, under `secret`; throws if it does not verify. */
function verifyAttempt(secret: string, attempt: ReceivedWebhook): WebhookBody {
  return new Webhook(secret).verify(attempt.body, attempt.headers) as WebhookBody;
}

for (const backend of availableBackends()) {
  describe(`signed webhooks (${backend})`, () => {
    const currentSecret = newSecret();
    const previousSecret = newSecret();
    let service: TestService;
    let receiver: WebhookReceiver;
    let late: WebhookReceiver | undefined;
    let latePort: number;
    let account: { email: string; password: string };
    let userId: string;

    before(async () => {
      receiver = await startWebhookReceiver((request, received) => {
        if (request.path === '/flaky') {
          const attempts = received.filter(
            (entry) =>
              entry.path === '/flaky' && entry.headers['webhook-id'] === request.headers['webhook-id'],
          ).length;
          return { status: attempts <= 2 ? 500 : 200 };
        }
        if (request.path === '/gone') return { status: 410 };
        if (request.path === '/redirect') return { status: 302, headers: { location: '/moved' } };
        return { status: 204 };
      });
      latePort = await findFreePort();
      service = await startTestService(backend, {
        WEBHOOK_URLS: ['/ok', '/flaky', '/gone', '/redirect']
          .map((path) => receiver.url(path))
          .concat(`http://127.0.0.1:${String(latePort)}/late`)
          .join(','),
        WEBHOOK_SECRET: `${currentSecret} ${previousSecret}`,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
        WEBHOOK_TIMEOUT_SECONDS: '2',
      });
      account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const [row] = await service.query<{ id: string }>('select id from users where email = $1', [
        account.email,
      ]);
      userId = row?.id ?? '';
      await logIn(service.baseUrl, account);
    });
    after(async () => {
      await service.close();
      await receiver.close();
      await late?.close();
    });

    const attemptsAt = (path: string): ReceivedWebhook[] =>
      receiver.received.filter((entry) => entry.path === path);
    const typesAt = (path: string): string[] =>
      attemptsAt(path).map((entry) => (JSON.parse(entry.body) as WebhookBody).type);

    test('a registration, its verification and a login arrive as user.created, user.verified and user.login, signed under every secret', async () => {
      await waitUntil('three events reach /ok', () => attemptsAt('/ok').length >= 3, {
        timeoutMilliseconds: 15_000,
      });
      const attempts = attemptsAt('/ok');
      assert.deepEqual(typesAt('/ok').slice(0, 3), ['user.created', 'user.verified', 'user.login']);
      for (const attempt of attempts) {
        for (const secret of [currentSecret, previousSecret]) {
          const body = verifyAttempt(secret, attempt);
          assert.equal(body.data.user_id, userId);
        }
        assert.equal(attempt.headers['webhook-signature']?.split(' ').length, 2);
        assert.throws(() => verifyAttempt(newSecret(), attempt), 'a foreign secret must not verify');
        assert.doesNotMatch(attempt.body, new RegExp(account.email.replace(/[.+]/g, '\\$&')));
        assert.doesNotMatch(attempt.body, /password|token|http/i);
      }
      assert.equal(new Set(attempts.map((attempt) => attempt.headers['webhook-id'])).size, attempts.length);
    });

    test('a receiver answering 500 twice then 200 gets three attempts with the same webhook-id, each signed at its own time', async () => {
      const createdAttempts = (): ReceivedWebhook[] =>
        attemptsAt('/flaky').filter(
          (entry) => (JSON.parse(entry.body) as WebhookBody).type === 'user.created',
        );
      await waitUntil('user.created reaches /flaky three times', () => createdAttempts().length >= 3, {
        timeoutMilliseconds: 20_000,
      });
      const sameEvent = createdAttempts();
      const firstId = sameEvent[0]?.headers['webhook-id'];
      assert.equal(sameEvent.length, 3);
      assert.ok(sameEvent.every((entry) => entry.headers['webhook-id'] === firstId));
      for (const attempt of sameEvent) {
        assert.equal((verifyAttempt(currentSecret, attempt) as WebhookBody).type, 'user.created');
        // Signed at the attempt: its timestamp is the second it was sent, not the event's.
        const timestampSeconds = Number(attempt.headers['webhook-timestamp']);
        assert.ok(Math.abs(attempt.receivedAt.getTime() / 1000 - timestampSeconds) < 2);
      }
      const [row] = await service.query<{ status: string; attempts: number }>(
        'select status, attempts from webhook_deliveries where webhook_id = $1',
        [firstId],
      );
      assert.deepEqual(row, { status: 'delivered', attempts: 3 });
    });

    test('a 410 Gone disables the endpoint: recorded, and nothing more is sent to it', async () => {
      await waitUntil(
        'the endpoint is recorded as disabled',
        async () =>
          (
            await service.query('select url from disabled_webhook_endpoints where url = $1', [
              receiver.url('/gone'),
            ])
          ).length === 1,
        { timeoutMilliseconds: 15_000 },
      );
      const countBefore = attemptsAt('/gone').length;
      await logIn(service.baseUrl, account);
      await waitUntil(
        'the new login reaches /ok',
        () => typesAt('/ok').filter((type) => type === 'user.login').length >= 2,
        {
          timeoutMilliseconds: 15_000,
        },
      );
      assert.equal(attemptsAt('/gone').length, countBefore);
      const open = await service.query(
        `select id from webhook_deliveries where endpoint_url = $1 and status in ('pending', 'processing')`,
        [receiver.url('/gone')],
      );
      assert.deepEqual(open, []);
    });

    test('a 302 is a failed attempt: the redirect is not followed and the delivery is retried', async () => {
      await waitUntil(
        '/redirect is tried twice for one event',
        () => {
          const ids = attemptsAt('/redirect').map((entry) => entry.headers['webhook-id']);
          return ids.length > new Set(ids).size;
        },
        { timeoutMilliseconds: 15_000 },
      );
      assert.deepEqual(attemptsAt('/moved'), []);
      const rows = await service.query<{ status: string; last_error: string }>(
        `select status, last_error from webhook_deliveries where endpoint_url = $1 and event_type = 'user.created'`,
        [receiver.url('/redirect')],
      );
      assert.equal(rows[0]?.status === 'delivered', false);
      assert.match(rows[0]?.last_error ?? '', /302/);
    });

    test('a receiver down for a while (a closed port, then started) loses nothing', async () => {
      await waitUntil(
        'the closed port was tried and refused',
        async () =>
          (
            await service.query(
              `select id from webhook_deliveries where endpoint_url like '%/late' and last_error like '%ECONNREFUSED%'`,
            )
          ).length > 0,
        { timeoutMilliseconds: 15_000 },
      );
      late = await startWebhookReceiver(() => ({ status: 200 }), latePort);
      const expected = await service.query<{ webhook_id: string }>(
        `select webhook_id from webhook_deliveries where endpoint_url like '%/late'`,
      );
      assert.ok(expected.length >= 4);
      await waitUntil(
        'every event queued for the late receiver arrives',
        () =>
          expected.every((row) =>
            late?.received.some((entry) => entry.headers['webhook-id'] === row.webhook_id),
          ),
        { timeoutMilliseconds: 20_000 },
      );
      for (const attempt of late.received) verifyAttempt(currentSecret, attempt);
    });

    test('/metrics counts attempts by outcome and shows how long the oldest waiting delivery has waited', async () => {
      const text = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
      const count = (outcome: string): number =>
        Number(
          new RegExp(`^latchkey_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(
            text,
          )?.[1],
        );
      assert.ok(count('delivered') >= 6, 'every 2xx is counted');
      assert.ok(count('retry') >= 4, 'the 500s, the 302s and the refused connections are counted');
      assert.equal(count('disabled'), 1);
      // The 302 endpoint never takes its deliveries: the oldest has waited since the registration.
      const age = Number(/^latchkey_webhook_oldest_age_seconds (\S+)/m.exec(text)?.[1]);
      assert.ok(age > 0, `oldest age ${String(age)}`);
    });

    test('GET /admin/webhooks/deliveries lists deliveries by status, a page at a time, never their bodies', async () => {
      const { key } = await createAdminKey(service.deps.http.admin, 'webhooks');
      const client = new HttpClient(service.baseUrl);
      const headers = { authorization: `Bearer ${key}` };
      assert.equal((await client.get('/admin/webhooks/deliveries')).status, 401);
      assert.equal((await client.get('/admin/webhooks/deliveries?status=lost', { headers })).status, 422);

      const pending = await client.get('/admin/webhooks/deliveries?status=pending', { headers });
      assert.equal(pending.status, 200);
      const waiting = pending.json.deliveries as {
        endpoint_host: string;
        status: string;
        last_error: string;
      }[];
      assert.ok(waiting.length > 0);
      assert.ok(
        waiting.every(
          (row) => row.status === 'pending' && row.endpoint_host === `127.0.0.1:${String(receiver.port)}`,
        ),
      );
      assert.ok(waiting.some((row) => row.last_error === 'answered 302'));
      assert.doesNotMatch(pending.text, new RegExp(userId));

      const seen = new Set<string>();
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const page = await client.get(`/admin/webhooks/deliveries?status=delivered&limit=2${query}`, {
          headers,
        });
        assert.equal(page.status, 200);
        for (const row of page.json.deliveries as { id: string; status: string; delivered_at: string }[]) {
          assert.equal(row.status, 'delivered');
          assert.ok(!Number.isNaN(Date.parse(row.delivered_at)));
          seen.add(row.id);
        }
        cursor = page.json.next_cursor as string | null;
      } while (cursor !== null);
      const [count] = await service.query<{ n: string }>(
        `select count(*) as n from webhook_deliveries where status = 'delivered'`,
      );
      assert.equal(seen.size, Number(count?.n));
    });
  });
}

for (const backend of availableBackends()) {
  describe(`webhook targets on private addresses (${backend})`, () => {
    let service: TestService;
    let receiver: WebhookReceiver;

    before(async () => {
      receiver = await startWebhookReceiver(() => ({ status: 200 }));
      service = await startTestService(backend, {
        // By name and by address: both resolve to loopback. WEBHOOK_ALLOW_PRIVATE is left at its default.
        WEBHOOK_URLS: `http://localhost:${String(receiver.port)}/by-name,${receiver.url('/by-address')}`,
        WEBHOOK_SECRET: newSecret(),
        WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
      });
      await registerVerifiedAccount(service.baseUrl, service.smtp);
    });
    after(async () => {
      await service.close();
      await receiver.close();
    });

    test('a target resolving to loopback is refused without WEBHOOK_ALLOW_PRIVATE, and the delivery waits', async () => {
      const rows = await waitUntil(
        'both endpoints were tried and refused',
        async () => {
          const refused = await service.query<{ endpoint_url: string; status: string; last_error: string }>(
            `select endpoint_url, status, last_error from webhook_deliveries
             where event_type = 'user.created' and attempts > 0 and last_error is not null`,
          );
          return refused.length === 2 ? refused : null;
        },
        { timeoutMilliseconds: 15_000 },
      );
      for (const row of rows) {
        assert.equal(row.status === 'delivered', false);
        assert.match(row.last_error, /private/);
      }
      assert.deepEqual(receiver.received, []);
    });
  });
}

describe('webhook delivery in the worker process (`npm run worker`)', () => {
  test('the worker delivers what another process queued, signed, without an API in the process', async (t) => {
    const secret = newSecret();
    const receiver = await startWebhookReceiver(() => ({ status: 200 }));
    t.after(() => receiver.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-webhook-worker-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      SECRET_KEY: `worker-secret-${uniqueRunId()}-${uniqueRunId()}`,
      WEBHOOK_URLS: receiver.url('/worker'),
      WEBHOOK_SECRET: secret,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'silent',
    };
    if (testDatabaseUrl() !== undefined) {
      const database = await createThrowawayDatabase();
      t.after(() => database.drop());
      env.DATABASE_URL = database.url;
    }
    const config = loadConfig(env);
    const worker = await composeWorkerProcess(config, createLogger({ level: 'silent' }), {
      secretKey: env.SECRET_KEY ?? '',
    });
    t.after(() => worker.close());
    const stop = worker.startWebhookDelivery();
    t.after(stop);
    // As the API process's transaction would have left it.
    await worker.database.pool.query(
      `insert into webhook_deliveries (webhook_id, endpoint_url, event_type, payload)
       values ('msg_fromanotherprocess', $1, 'user.created', $2)`,
      [
        receiver.url('/worker'),
        JSON.stringify({ type: 'user.created', timestamp: new Date().toISOString(), data: {} }),
      ],
    );
    const [attempt] = await waitUntil(
      'the worker delivers the queued event',
      () => receiver.received.length > 0 && receiver.received,
      {
        timeoutMilliseconds: 15_000,
      },
    );
    assert.ok(attempt !== undefined);
    assert.equal(attempt.headers['webhook-id'], 'msg_fromanotherprocess');
    assert.equal(verifyAttempt(secret, attempt).type, 'user.created');
    await waitUntil(
      'the delivery is recorded',
      async () =>
        (await worker.database.pool.query(`select 1 from webhook_deliveries where status = 'delivered'`))
          .rowCount === 1,
      { timeoutMilliseconds: 5_000 },
    );
  });
});
