import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createAdminKey } from '../../src/flows/admin-keys.ts';
import { FlowError } from '../../src/flows/errors.ts';
import { createWebhookEndpoint } from '../../src/flows/webhooks-endpoints.ts';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount } from '../support/journeys.ts';
import { runAdminCli } from '../support/admin-cli.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import { waitUntil } from '../support/wait.ts';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

interface WebhookBody {
  type: string;
  data: { user_id: string };
}

/** Verifies one attempt with the standardwebhooks package under `secret`; throws if it does not verify. */
function verifyAttempt(secret: string, attempt: ReceivedWebhook): WebhookBody {
  return new Webhook(secret).verify(attempt.body, attempt.headers) as WebhookBody;
}

const envSecret = `whsec_${randomBytes(32).toString('base64')}`;

for (const backend of availableBackends()) {
  describe(`webhook endpoints managed through the admin API (${backend})`, () => {
    let service: TestService;
    let receiver: WebhookReceiver;
    let client: HttpClient;
    let adminKey: string;
    let adminKeyId: string;
    let account: { email: string; password: string };
    // What the receiver answers, by path: switched by the tests (a receiver that goes away and comes back).
    const answers = new Map<string, number>([['/env', 410]]);

    before(async () => {
      receiver = await startWebhookReceiver((request) => ({ status: answers.get(request.path) ?? 204 }));
      service = await startTestService(backend, {
        WEBHOOK_URLS: receiver.url('/env'),
        WEBHOOK_SECRET: envSecret,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
        WEBHOOK_TIMEOUT_SECONDS: '2',
      });
      client = new HttpClient(service.baseUrl);
      const created = await createAdminKey(service.deps.http.admin, 'webhooks e2e');
      adminKey = created.key;
      adminKeyId = created.adminKey.id;
      account = await registerVerifiedAccount(service.baseUrl, service.smtp);
    });
    after(async () => {
      await service?.close();
      await receiver?.close();
    });

    const asAdmin = (method: string, path: string, json?: unknown): Promise<HttpAnswer> =>
      client.request(method, path, { bearer: adminKey, ...(json === undefined ? {} : { json }) });
    const attemptsAt = (path: string): ReceivedWebhook[] =>
      receiver.received.filter((entry) => entry.path === path);
    const typesAt = (path: string): string[] =>
      attemptsAt(path).map((entry) => (JSON.parse(entry.body) as WebhookBody).type);
    async function createEndpoint(
      path: string,
      eventTypes?: string[],
    ): Promise<{ id: string; secret: string }> {
      const created = await asAdmin('POST', '/admin/webhooks/endpoints', {
        url: receiver.url(path),
        description: `receiver ${path}`,
        ...(eventTypes === undefined ? {} : { event_types: eventTypes }),
      });
      assert.equal(created.status, 201, created.text);
      return { id: created.json.endpoint.id as string, secret: created.json.secret as string };
    }
    async function logInAndWait(path: string, logins: number): Promise<void> {
      await logIn(service.baseUrl, account);
      await waitUntil(
        `login ${String(logins)} reaches ${path}`,
        () => typesAt(path).filter((type) => type === 'user.login').length >= logins,
        { timeoutMilliseconds: 15_000 },
      );
    }

    test('an endpoint created through the API gets the next events, signed with its own secret, shown once', async () => {
      const { id, secret } = await createEndpoint('/managed');
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      await logInAndWait('/managed', 1);
      const [attempt] = attemptsAt('/managed');
      assert.ok(attempt !== undefined);
      assert.equal(verifyAttempt(secret, attempt).type, 'user.login');
      assert.equal(attempt.headers['webhook-signature']?.split(' ').length, 1);
      assert.throws(() => verifyAttempt(envSecret, attempt), 'the env secret must not verify it');
      // The secret is not readable again: neither listed nor stored in the clear.
      const listed = await asAdmin('GET', '/admin/webhooks/endpoints');
      assert.equal(listed.status, 200);
      assert.doesNotMatch(listed.text, /whsec_/);
      const stored = await service.query<{ sealed_secret: string }>(
        'select sealed_secret from webhook_endpoints where id = $1',
        [id],
      );
      assert.ok(!stored[0]?.sealed_secret.includes(secret.slice('whsec_'.length, 20)));
      const trail = await service.query<{ actor: string }>(
        `select actor from audit_events where event = 'admin_webhook_endpoint_created' and outcome = $1`,
        [id],
      );
      assert.deepEqual(trail, [{ actor: `admin:${adminKeyId}` }]);
    });

    test('an endpoint with an event filter gets only those types', async () => {
      await createEndpoint('/deletions-only', ['user.deleted']);
      const logins = await createEndpoint('/logins-only', ['user.login']);
      await logInAndWait('/logins-only', 1);
      await logInAndWait('/managed', 3);
      assert.deepEqual(attemptsAt('/deletions-only'), []);
      for (const attempt of attemptsAt('/logins-only')) verifyAttempt(logins.secret, attempt);
    });

    test('a URL that is not http(s), an unknown event type, and a private target (WEBHOOK_ALLOW_PRIVATE=false) are 400s that create nothing', async () => {
      const before = (await asAdmin('GET', '/admin/webhooks/endpoints')).json.endpoints.length as number;
      const ftp = await asAdmin('POST', '/admin/webhooks/endpoints', { url: 'ftp://hooks.example.com/x' });
      assert.deepEqual([ftp.status, ftp.json.code], [400, 'invalid_webhook_url']);
      const unknown = await asAdmin('POST', '/admin/webhooks/endpoints', {
        url: 'https://hooks.example.com/x',
        event_types: ['user.exploded'],
      });
      assert.deepEqual([unknown.status, unknown.json.code], [400, 'unknown_webhook_event_type']);
      const strict = {
        ...service.deps.http.admin,
        webhookSettings: { envUrls: [], allowPrivateTargets: false },
      };
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://[::1]/x',
        'https://localhost/x',
        'http://10.1.2.3/x',
      ]) {
        await assert.rejects(
          createWebhookEndpoint(strict, { url }),
          (error: unknown) => error instanceof FlowError && error.code === 'webhook_target_private',
          url,
        );
      }
      assert.equal((await asAdmin('GET', '/admin/webhooks/endpoints')).json.endpoints.length, before);
    });

    test('a 410 disables the endpoint (reason gone) and nothing more goes there; enabled through the API, it gets the next event', async () => {
      answers.set('/comes-back', 410);
      const { id, secret } = await createEndpoint('/comes-back');
      await logIn(service.baseUrl, account);
      await waitUntil(
        'the endpoint is disabled as gone',
        async () => (await asAdmin('GET', `/admin/webhooks/endpoints/${id}`)).json.disabled_reason === 'gone',
        { timeoutMilliseconds: 15_000 },
      );
      const shown = await asAdmin('GET', `/admin/webhooks/endpoints/${id}`);
      assert.equal(shown.json.enabled, false);
      const refusedCount = attemptsAt('/comes-back').length;
      await logInAndWait('/managed', 5);
      assert.equal(attemptsAt('/comes-back').length, refusedCount);

      answers.delete('/comes-back');
      const enabled = await asAdmin('POST', `/admin/webhooks/endpoints/${id}/enable`);
      assert.deepEqual(
        [enabled.status, enabled.json.enabled, enabled.json.disabled_reason],
        [200, true, null],
      );
      await logInAndWait('/comes-back', 1);
      const delivered = attemptsAt('/comes-back').at(-1);
      assert.ok(delivered !== undefined);
      assert.equal(verifyAttempt(secret, delivered).type, 'user.login');
    });

    test('after a rotation every attempt carries two signatures: the old secret and the new one both verify it', async () => {
      const { id, secret: oldSecret } = await createEndpoint('/rotating', ['user.login']);
      const rotated = await asAdmin('POST', `/admin/webhooks/endpoints/${id}/rotate-secret`);
      assert.equal(rotated.status, 200);
      const newSecret = rotated.json.secret as string;
      assert.notEqual(newSecret, oldSecret);
      const expiresAt = Date.parse(rotated.json.endpoint.previous_secret_expires_at as string);
      assert.ok(Math.abs(expiresAt - Date.now() - 24 * 60 * 60 * 1000) < 60_000);
      await logInAndWait('/rotating', 1);
      const [attempt] = attemptsAt('/rotating');
      assert.ok(attempt !== undefined);
      assert.equal(attempt.headers['webhook-signature']?.split(' ').length, 2);
      assert.equal(verifyAttempt(newSecret, attempt).type, 'user.login');
      assert.equal(verifyAttempt(oldSecret, attempt).type, 'user.login');
      assert.throws(() => verifyAttempt(envSecret, attempt));
    });

    test('disabling abandons what waits; an abandoned delivery is retried once the endpoint is enabled, with the same webhook-id', async () => {
      answers.set('/failing', 500);
      const { id, secret } = await createEndpoint('/failing', ['user.login']);
      await logIn(service.baseUrl, account);
      await waitUntil('the failing endpoint was tried', () => attemptsAt('/failing').length >= 1, {
        timeoutMilliseconds: 15_000,
      });
      const disabled = await asAdmin('POST', `/admin/webhooks/endpoints/${id}/disable`);
      assert.deepEqual([disabled.status, disabled.json.disabled_reason], [200, 'operator']);
      const abandoned = await asAdmin('GET', '/admin/webhooks/deliveries?status=abandoned');
      const mine = (
        abandoned.json.deliveries as { id: string; endpoint_id: string; last_error: string }[]
      ).filter((row) => row.endpoint_id === id);
      assert.equal(mine.length, 1);
      assert.equal(mine[0]?.last_error, 'endpoint disabled: operator');
      const deliveryId = mine[0]?.id ?? '';

      const refused = await asAdmin('POST', `/admin/webhooks/deliveries/${deliveryId}/retry`);
      assert.deepEqual([refused.status, refused.json.code], [409, 'webhook_endpoint_disabled']);
      answers.delete('/failing');
      assert.equal((await asAdmin('POST', `/admin/webhooks/endpoints/${id}/enable`)).status, 200);
      const retried = await asAdmin('POST', `/admin/webhooks/deliveries/${deliveryId}/retry`);
      assert.equal(retried.status, 202);
      const webhookId = attemptsAt('/failing')[0]?.headers['webhook-id'];
      await waitUntil(
        'the retried delivery arrives',
        async () =>
          (
            await service.query('select 1 from webhook_deliveries where id = $1 and status = $2', [
              deliveryId,
              'delivered',
            ])
          ).length === 1,
        { timeoutMilliseconds: 15_000 },
      );
      const last = attemptsAt('/failing').at(-1);
      assert.ok(last !== undefined);
      assert.equal(last.headers['webhook-id'], webhookId);
      verifyAttempt(secret, last);
      const again = await asAdmin('POST', `/admin/webhooks/deliveries/${deliveryId}/retry`);
      assert.deepEqual([again.status, again.json.code], [409, 'webhook_delivery_not_abandoned']);
      const unknown = await asAdmin(
        'POST',
        '/admin/webhooks/deliveries/00000000-0000-4000-8000-000000000000/retry',
      );
      assert.deepEqual([unknown.status, unknown.json.code], [404, 'webhook_delivery_not_found']);
    });

    test('an env endpoint is listed read-only; after its 410 it is enabled through the API and gets the next event', async () => {
      const listed = await asAdmin('GET', '/admin/webhooks/endpoints');
      const env = (
        listed.json.endpoints as {
          id: string;
          source: string;
          url: string;
          enabled: boolean;
          disabled_reason: string;
        }[]
      ).find((endpoint) => endpoint.source === 'env');
      assert.ok(env !== undefined);
      assert.equal(env.url, receiver.url('/env'));
      assert.deepEqual([env.enabled, env.disabled_reason], [false, 'gone']);
      for (const [method, path] of [
        ['PATCH', ''],
        ['DELETE', ''],
        ['POST', '/disable'],
        ['POST', '/rotate-secret'],
      ] as const) {
        const answer = await asAdmin(
          method,
          `/admin/webhooks/endpoints/${env.id}${path}`,
          method === 'PATCH' ? { description: 'x' } : undefined,
        );
        assert.deepEqual(
          [answer.status, answer.json.code],
          [409, 'webhook_endpoint_read_only'],
          `${method} ${path}`,
        );
      }
      answers.delete('/env');
      const enabled = await asAdmin('POST', `/admin/webhooks/endpoints/${env.id}/enable`);
      assert.deepEqual([enabled.status, enabled.json.enabled], [200, true]);
      assert.deepEqual(await service.query('select url from disabled_webhook_endpoints'), []);
      await logInAndWait('/env', 1);
      const attempt = attemptsAt('/env').at(-1);
      assert.ok(attempt !== undefined);
      verifyAttempt(envSecret, attempt);
    });

    test('a PATCH changes the filter; a deleted endpoint is 404 and gets nothing more', async () => {
      const { id } = await createEndpoint('/short-lived');
      const patched = await asAdmin('PATCH', `/admin/webhooks/endpoints/${id}`, {
        event_types: ['user.deleted'],
        description: 'renamed',
      });
      assert.deepEqual(
        [patched.status, patched.json.event_types, patched.json.description],
        [200, ['user.deleted'], 'renamed'],
      );
      const deleted = await asAdmin('DELETE', `/admin/webhooks/endpoints/${id}`);
      assert.equal(deleted.status, 204);
      const gone = await asAdmin('GET', `/admin/webhooks/endpoints/${id}`);
      assert.deepEqual([gone.status, gone.json.code], [404, 'webhook_endpoint_not_found']);
      assert.equal((await asAdmin('DELETE', `/admin/webhooks/endpoints/${id}`)).status, 404);
      const events = await service.query<{ event: string }>(
        `select event from audit_events where outcome = $1 and actor = $2 order by occurred_at`,
        [id, `admin:${adminKeyId}`],
      );
      assert.deepEqual(
        events.map((row) => row.event),
        [
          'admin_webhook_endpoint_created',
          'admin_webhook_endpoint_updated',
          'admin_webhook_endpoint_deleted',
        ],
      );
    });

    // The embedded database belongs to the running service: the CLI as a second process needs PostgreSQL.
    if (backend === 'postgres+redis') {
      test('npm run admin -- webhooks create prints the secret once; list and disable work on the same endpoints', async () => {
        const created = await runAdminCli(
          service,
          ['webhooks', 'create', receiver.url('/from-cli'), '--events', 'user.login,user.deleted'],
          { WEBHOOK_ALLOW_PRIVATE: 'true' },
        );
        assert.equal(created.code, 0, created.stderr);
        const secret = created.stdout.trim();
        assert.match(secret, /^whsec_/);
        const id = /webhook endpoint (\S+) created/.exec(created.stderr)?.[1] ?? '';
        const listed = await runAdminCli(service, ['webhooks', 'list'], { WEBHOOK_ALLOW_PRIVATE: 'true' });
        assert.equal(listed.code, 0, listed.stderr);
        const rows = listed.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { id: string; eventTypes: string[] });
        assert.deepEqual(rows.find((row) => row.id === id)?.eventTypes, ['user.login', 'user.deleted']);
        assert.doesNotMatch(listed.stdout, /whsec_/);
        await logInAndWait('/from-cli', 1);
        verifyAttempt(secret, attemptsAt('/from-cli')[0] as ReceivedWebhook);
        const disabled = await runAdminCli(service, ['webhooks', 'disable', id], {
          WEBHOOK_ALLOW_PRIVATE: 'true',
        });
        assert.equal(disabled.code, 0, disabled.stderr);
        assert.equal(
          (await asAdmin('GET', `/admin/webhooks/endpoints/${id}`)).json.disabled_reason,
          'operator',
        );
        const refused = await runAdminCli(service, ['webhooks', 'create', 'ftp://x.example.com/'], {
          WEBHOOK_ALLOW_PRIVATE: 'true',
        });
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /http or https/);
        const cliEvents = await service.query(
          `select 1 from audit_events where event = 'admin_webhook_endpoint_disabled' and outcome = $1 and actor = 'cli'`,
          [id],
        );
        assert.equal(cliEvents.length, 1);
      });
    }
  });
}
