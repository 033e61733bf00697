import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AdminContext } from '../../src/flows/admin-context.ts';
import { runWithAuditOrigin } from '../../src/flows/audit.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  enableWebhookEndpoint,
  identifyEnvWebhookEndpoint,
  listWebhookEndpoints,
  previousWebhookSecretLifetimeSeconds,
  rotateWebhookEndpointSecret,
  showWebhookEndpoint,
  updateWebhookEndpoint,
} from '../../src/flows/webhooks-endpoints.ts';
import { MemoryAdminKeyStore } from '../../src/storage/memory/admin-key-store.ts';
import { MemoryOutboxBrowser } from '../../src/storage/memory/outbox-browser.ts';
import { MemoryUserDirectory } from '../../src/storage/memory/user-directory.ts';
import { MemoryWebhookQueue } from '../../src/storage/memory/webhook-deliveries.ts';
import { MemoryWebhookEndpointStore } from '../../src/storage/memory/webhook-endpoints.ts';
import { assertFlowError, createMemoryAccount, type MemoryAccount } from './memory-account.ts';

const envUrl = 'https://env.example.com/hook';

function adminOf(account: MemoryAccount, allowPrivateTargets = false): AdminContext {
  return {
    account: account.context,
    adminKeys: new MemoryAdminKeyStore(account.database),
    directory: new MemoryUserDirectory(account.database),
    outbox: new MemoryOutboxBrowser(account.database.outbox.records),
    webhookDeliveries: new MemoryWebhookQueue(account.database),
    webhookEndpoints: new MemoryWebhookEndpointStore(account.database),
    webhookSettings: { envUrls: [envUrl], allowPrivateTargets },
  };
}

describe('webhook endpoints: what an operator may create', () => {
  test('an absolute http(s) URL without credentials is taken; anything else is invalid_webhook_url and creates nothing', async () => {
    const account = createMemoryAccount();
    const admin = adminOf(account);
    for (const url of [
      'hooks.example.com/x',
      'ftp://hooks.example.com/x',
      'javascript:alert(1)',
      'https://user:pass@hooks.example.com/x',
      `https://hooks.example.com/${'x'.repeat(2000)}`,
    ])
      await assertFlowError(createWebhookEndpoint(admin, { url }), 'invalid_webhook_url');
    const created = await createWebhookEndpoint(admin, { url: 'http://hooks.example.com/x' });
    assert.equal(created.endpoint.url, 'http://hooks.example.com/x');
    assert.equal((await listWebhookEndpoints(admin)).length, 2);
  });

  test('private, loopback and link-local targets, localhost and single-label hosts are refused unless WEBHOOK_ALLOW_PRIVATE', async () => {
    const account = createMemoryAccount();
    const urls = [
      'http://127.0.0.1/x',
      'http://10.0.0.8/x',
      'http://192.168.1.1/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://[fd00::1]/x',
      'http://localhost:8080/x',
      'http://api.localhost/x',
      'http://receiver/x',
    ];
    for (const url of urls)
      await assertFlowError(createWebhookEndpoint(adminOf(account), { url }), 'webhook_target_private');
    assert.equal((await listWebhookEndpoints(adminOf(account))).length, 1, 'only the env endpoint');
    for (const url of urls) await createWebhookEndpoint(adminOf(account, true), { url });
    await createWebhookEndpoint(adminOf(account), { url: 'https://93.184.215.14/x' });
  });

  test('event types must be ones Latchkey sends; repeats are kept once', async () => {
    const admin = adminOf(createMemoryAccount());
    await assertFlowError(
      createWebhookEndpoint(admin, {
        url: 'https://a.example.com/',
        eventTypes: ['user.login', 'user.hacked'],
      }),
      'unknown_webhook_event_type',
    );
    const created = await createWebhookEndpoint(admin, {
      url: 'https://a.example.com/',
      eventTypes: ['user.login', 'user.deleted', 'user.login'],
    });
    assert.deepEqual(created.endpoint.eventTypes, ['user.login', 'user.deleted']);
  });

  test('each endpoint gets its own fresh whsec_ secret; a rotation gives another, the old one signing for 24 h', async () => {
    const account = createMemoryAccount();
    const admin = adminOf(account);
    const first = await createWebhookEndpoint(admin, { url: 'https://a.example.com/' });
    const second = await createWebhookEndpoint(admin, { url: 'https://b.example.com/' });
    assert.match(first.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(first.secret, second.secret);
    const rotated = await rotateWebhookEndpointSecret(admin, first.endpoint.id);
    assert.notEqual(rotated.secret, first.secret);
    assert.equal(
      rotated.endpoint.previousSecretExpiresAt?.getTime(),
      account.clock.now().getTime() + previousWebhookSecretLifetimeSeconds * 1000,
    );
    assert.deepEqual(
      await admin.webhookEndpoints.findWebhookSigningSecrets(first.endpoint.id, account.clock.now()),
      [rotated.secret, first.secret],
    );
  });
});

describe('webhook endpoints: env endpoints and ids', () => {
  test('an env endpoint is listed with a stable id; changing it is webhook_endpoint_read_only, enabling it after a 410 works', async () => {
    const account = createMemoryAccount();
    const admin = adminOf(account);
    const id = identifyEnvWebhookEndpoint(envUrl);
    assert.match(id, /^env_[0-9a-f]{24}$/);
    assert.deepEqual(
      (await listWebhookEndpoints(admin)).map((endpoint) => [endpoint.id, endpoint.source, endpoint.enabled]),
      [[id, 'env', true]],
    );
    await assertFlowError(
      updateWebhookEndpoint(admin, id, { description: 'x' }),
      'webhook_endpoint_read_only',
    );
    await assertFlowError(deleteWebhookEndpoint(admin, id), 'webhook_endpoint_read_only');
    await assertFlowError(rotateWebhookEndpointSecret(admin, id), 'webhook_endpoint_read_only');
    await new MemoryWebhookQueue(account.database).disableWebhookEndpoint(
      envUrl,
      'answered 410 Gone',
      new Date(),
    );
    assert.deepEqual(
      [(await showWebhookEndpoint(admin, id)).enabled, (await showWebhookEndpoint(admin, id)).disabledReason],
      [false, 'gone'],
    );
    const enabled = await runWithAuditOrigin(
      { ip: null, userAgent: null, requestId: null, actor: 'admin:key-1' },
      () => enableWebhookEndpoint(admin, id),
    );
    assert.equal(enabled.enabled, true);
    const trail = account.database.auditEvents
      .rows()
      .filter((row) => row.event === 'admin_webhook_endpoint_enabled');
    assert.deepEqual(
      trail.map((row) => [row.actor, row.outcome]),
      [['admin:key-1', id]],
    );
  });

  test('an unknown or malformed id is webhook_endpoint_not_found, never a 500', async () => {
    const admin = adminOf(createMemoryAccount());
    for (const id of ['nope', 'env_0000', '00000000-0000-4000-8000-000000000000', "1' or '1'='1"]) {
      await assertFlowError(showWebhookEndpoint(admin, id), 'webhook_endpoint_not_found');
      await assertFlowError(enableWebhookEndpoint(admin, id), 'webhook_endpoint_not_found');
      await assertFlowError(deleteWebhookEndpoint(admin, id), 'webhook_endpoint_not_found');
    }
  });
});
