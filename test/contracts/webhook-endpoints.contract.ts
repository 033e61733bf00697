import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, test } from 'node:test';
import { completeAuditEvent, type AuditEventName, type AuditRecord } from '../../src/flows/audit.ts';
import type { Transactor } from '../../src/flows/ports.ts';
import type {
  WebhookDeliveryBrowser,
  WebhookEndpointStore,
  WebhookQueue,
  WebhookTargets,
} from '../../src/flows/webhooks.ts';
import { describeContract } from './describe-contract.ts';

export interface WebhookEndpointsUnderTest {
  /** A transactor whose audit trail queues deliveries for `targets` and the managed endpoints. */
  createTransactor(targets: WebhookTargets): Transactor;
  createQueue(): WebhookQueue & WebhookDeliveryBrowser;
  createEndpoints(): WebhookEndpointStore;
  /** The audit trail's rows of operators' actions (`admin_…`), as (event, outcome), oldest first. */
  readAuditEvents(): Promise<{ event: string; outcome: string }[]>;
  /** Empties endpoints, deliveries and the trail. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

const envUrl = 'https://env.example.com/hook';
const leaseSeconds = 30;
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export function describeWebhookEndpointsContract(
  backendName: string,
  open: () => Promise<WebhookEndpointsUnderTest>,
): void {
  describeContract(`webhook endpoints contract (${backendName})`, open, 'suite', (fixture) => {
    let transactor: Transactor;
    let queue: WebhookQueue & WebhookDeliveryBrowser;
    let endpoints: WebhookEndpointStore;

    beforeEach(async () => {
      await fixture().clear();
      transactor = fixture().createTransactor({ urls: [envUrl] });
      queue = fixture().createQueue();
      endpoints = fixture().createEndpoints();
    });

    const audit = (event: AuditEventName, outcome: string): AuditRecord =>
      completeAuditEvent({ event, outcome, userId: null }, new Date());

    async function createEndpoint(url: string, eventTypes: readonly string[] = [], secret = newSecret()) {
      const endpoint = await endpoints.insertWebhookEndpoint(
        { url, description: 'test', eventTypes, secret },
        (id) => audit('admin_webhook_endpoint_created', id),
      );
      return { endpoint, secret };
    }

    /** Creates an account and records `event` for it in one transaction. */
    async function recordEvent(event: AuditEventName): Promise<void> {
      await transactor.runInTransaction(async (stores) => {
        const address = `${randomUUID()}@example.com`;
        const user = await stores.users.insertUser({ email: address, emailKey: address, passwordHash: 'x' });
        assert.ok(user !== null);
        await stores.audit.appendAuditEvent(
          completeAuditEvent({ event, outcome: 'success', userId: user.id }, new Date()),
        );
      });
    }

    const claim = (at = new Date()) => queue.claimDueWebhookDeliveries(20, at, leaseSeconds);
    const targetsOf = (deliveries: { endpointId: string | null; eventType: string }[]) =>
      deliveries.map((delivery) => `${delivery.endpointId ?? 'env'} ${delivery.eventType}`).sort();

    test('a created endpoint is listed without its secret, signs with it, and its creation is in the trail', async () => {
      const { endpoint, secret } = await createEndpoint('https://a.example.com/hook', ['user.login']);
      assert.deepEqual(
        (await endpoints.listWebhookEndpoints()).map((listed) => [listed.id, listed.url, listed.eventTypes]),
        [[endpoint.id, 'https://a.example.com/hook', ['user.login']]],
      );
      assert.doesNotMatch(JSON.stringify(await endpoints.listWebhookEndpoints()), /whsec_/);
      assert.equal(endpoint.disabledAt, null);
      assert.deepEqual(await endpoints.findWebhookSigningSecrets(endpoint.id, new Date()), [secret]);
      assert.deepEqual(await fixture().readAuditEvents(), [
        { event: 'admin_webhook_endpoint_created', outcome: endpoint.id },
      ]);
    });

    test('an event is queued for the env endpoints and every enabled endpoint whose filter takes its type', async () => {
      const everything = await createEndpoint('https://all.example.com/hook');
      const logins = await createEndpoint('https://logins.example.com/hook', ['user.login']);
      await recordEvent('login');
      await recordEvent('logout');
      const deliveries = await claim();
      assert.deepEqual(
        targetsOf(deliveries),
        [
          `${everything.endpoint.id} session.revoked`,
          `${everything.endpoint.id} user.login`,
          `${logins.endpoint.id} user.login`,
          'env session.revoked',
          'env user.login',
        ].sort(),
      );
      const toLogins = deliveries.find((delivery) => delivery.endpointId === logins.endpoint.id);
      assert.equal(toLogins?.endpointUrl, 'https://logins.example.com/hook');
    });

    test('after a rotation both secrets sign (new first) until the previous one expires, then the new one alone', async () => {
      const { endpoint, secret } = await createEndpoint('https://rotate.example.com/hook');
      const rotated = newSecret();
      const expiresAt = new Date(Date.now() + 24 * 60 * 60 * 1000);
      const changed = await endpoints.rotateWebhookEndpointSecret(
        endpoint.id,
        rotated,
        expiresAt,
        audit('admin_webhook_secret_rotated', endpoint.id),
      );
      assert.equal(changed?.previousSecretExpiresAt?.getTime(), expiresAt.getTime());
      assert.deepEqual(await endpoints.findWebhookSigningSecrets(endpoint.id, new Date()), [rotated, secret]);
      assert.deepEqual(
        await endpoints.findWebhookSigningSecrets(endpoint.id, new Date(expiresAt.getTime() + 1000)),
        [rotated],
      );
      assert.equal(
        await endpoints.rotateWebhookEndpointSecret(
          randomUUID(),
          newSecret(),
          expiresAt,
          audit('admin_webhook_secret_rotated', 'x'),
        ),
        null,
      );
    });

    test('disabling an endpoint abandons what waits for it and queues nothing more; enabling queues again', async () => {
      const { endpoint } = await createEndpoint('https://off.example.com/hook');
      await recordEvent('login');
      const disabled = await endpoints.disableManagedWebhookEndpoint(
        endpoint.id,
        'operator',
        new Date(),
        audit('admin_webhook_endpoint_disabled', endpoint.id),
      );
      assert.equal(disabled?.disabledReason, 'operator');
      const abandoned = await queue.listWebhookDeliveries({ status: 'abandoned', after: null, limit: 10 });
      assert.deepEqual(
        abandoned.rows.map((row) => [row.endpointId, row.lastError]),
        [[endpoint.id, 'endpoint disabled: operator']],
      );
      await recordEvent('logout');
      assert.deepEqual(targetsOf(await claim()), ['env session.revoked', 'env user.login']);
      await endpoints.enableManagedWebhookEndpoint(
        endpoint.id,
        audit('admin_webhook_endpoint_enabled', endpoint.id),
      );
      await recordEvent('password_change');
      assert.deepEqual(
        targetsOf(await claim()),
        [`${endpoint.id} user.password_changed`, 'env user.password_changed'].sort(),
      );
      assert.deepEqual(
        (await fixture().readAuditEvents()).map((row) => row.event),
        [
          'admin_webhook_endpoint_created',
          'admin_webhook_endpoint_disabled',
          'admin_webhook_endpoint_enabled',
        ],
      );
    });

    test('a 410 disables the managed endpoint as `gone`, not the env endpoint of the same URL; an operator disable keeps `gone`', async () => {
      const { endpoint } = await createEndpoint(envUrl);
      await recordEvent('login');
      const [toManaged] = (await claim()).filter((delivery) => delivery.endpointId === endpoint.id);
      assert.ok(toManaged !== undefined);
      await queue.disableWebhookEndpoint(envUrl, 'answered 410 Gone', new Date(), endpoint.id);
      const gone = await endpoints.findWebhookEndpoint(endpoint.id);
      assert.equal(gone?.disabledReason, 'gone');
      assert.deepEqual(await endpoints.listDisabledEnvWebhookEndpoints(), []);
      await recordEvent('logout');
      assert.deepEqual(targetsOf(await claim()), ['env session.revoked']);
      const again = await endpoints.disableManagedWebhookEndpoint(
        endpoint.id,
        'operator',
        new Date(),
        audit('admin_webhook_endpoint_disabled', endpoint.id),
      );
      assert.equal(again?.disabledReason, 'gone');
    });

    test('an env endpoint disabled by a 410 is enabled again by URL, once', async () => {
      await queue.disableWebhookEndpoint(envUrl, 'answered 410 Gone', new Date());
      assert.deepEqual(
        (await endpoints.listDisabledEnvWebhookEndpoints()).map((entry) => entry.url),
        [envUrl],
      );
      await recordEvent('login');
      assert.deepEqual(await claim(), []);
      assert.equal(
        await endpoints.enableEnvWebhookEndpoint(envUrl, audit('admin_webhook_endpoint_enabled', 'env')),
        true,
      );
      assert.equal(
        await endpoints.enableEnvWebhookEndpoint(envUrl, audit('admin_webhook_endpoint_enabled', 'env')),
        false,
      );
      await recordEvent('logout');
      assert.deepEqual(targetsOf(await claim()), ['env session.revoked']);
      assert.deepEqual(
        (await fixture().readAuditEvents()).map((row) => row.event),
        ['admin_webhook_endpoint_enabled'],
      );
    });

    test('a deleted endpoint signs nothing, its waiting deliveries are abandoned, and a second delete finds nothing', async () => {
      const { endpoint } = await createEndpoint('https://deleted.example.com/hook');
      await recordEvent('login');
      assert.equal(
        await endpoints.deleteWebhookEndpoint(
          endpoint.id,
          audit('admin_webhook_endpoint_deleted', endpoint.id),
        ),
        true,
      );
      assert.equal(await endpoints.findWebhookSigningSecrets(endpoint.id, new Date()), null);
      assert.equal(await endpoints.findWebhookEndpoint(endpoint.id), null);
      const abandoned = await queue.listWebhookDeliveries({ status: 'abandoned', after: null, limit: 10 });
      assert.deepEqual(
        abandoned.rows.map((row) => [row.endpointId, row.lastError]),
        [[endpoint.id, 'endpoint deleted']],
      );
      assert.equal(
        await endpoints.deleteWebhookEndpoint(
          endpoint.id,
          audit('admin_webhook_endpoint_deleted', endpoint.id),
        ),
        false,
      );
      assert.equal(
        (await fixture().readAuditEvents()).filter((row) => row.event === 'admin_webhook_endpoint_deleted')
          .length,
        1,
      );
    });

    test('an abandoned delivery is retried once its endpoint is enabled: due now, with the same webhook-id', async () => {
      const { endpoint } = await createEndpoint('https://retry.example.com/hook');
      await recordEvent('login');
      const leased = await claim();
      const toManaged = leased.find((delivery) => delivery.endpointId === endpoint.id);
      const toEnv = leased.find((delivery) => delivery.endpointId === null);
      assert.ok(toManaged !== undefined && toEnv !== undefined);
      const retry = (id: string) =>
        endpoints.retryWebhookDelivery(id, new Date(), [envUrl], audit('admin_webhook_delivery_retried', id));
      assert.equal(await retry(toManaged.id), 'not_abandoned');
      assert.equal(await retry(randomUUID()), 'not_found');
      await queue.disableWebhookEndpoint(endpoint.url, 'answered 410 Gone', new Date(), endpoint.id);
      assert.equal(await retry(toManaged.id), 'endpoint_disabled');
      await endpoints.enableManagedWebhookEndpoint(
        endpoint.id,
        audit('admin_webhook_endpoint_enabled', endpoint.id),
      );
      assert.equal(await retry(toManaged.id), 'retried');
      await queue.markWebhookAbandoned(toEnv.id, 'answered 500');
      assert.equal(
        await endpoints.retryWebhookDelivery(
          toEnv.id,
          new Date(),
          [],
          audit('admin_webhook_delivery_retried', toEnv.id),
        ),
        'endpoint_disabled',
      );
      assert.equal(await retry(toEnv.id), 'retried');
      const again = await claim();
      assert.deepEqual(
        again.map((delivery) => delivery.webhookId).sort(),
        [toManaged.webhookId, toEnv.webhookId].sort(),
      );
      assert.equal(
        (await fixture().readAuditEvents()).filter((row) => row.event === 'admin_webhook_delivery_retried')
          .length,
        2,
      );
    });

    test('an update changes the URL, description and filter; an unknown id changes nothing', async () => {
      const { endpoint } = await createEndpoint('https://old.example.com/hook');
      const updated = await endpoints.updateWebhookEndpoint(
        endpoint.id,
        { url: 'https://new.example.com/hook', eventTypes: ['user.deleted'] },
        audit('admin_webhook_endpoint_updated', endpoint.id),
      );
      assert.deepEqual(
        [updated?.url, updated?.description, updated?.eventTypes],
        ['https://new.example.com/hook', 'test', ['user.deleted']],
      );
      await recordEvent('login');
      assert.deepEqual(targetsOf(await claim()), ['env user.login']);
      assert.equal(
        await endpoints.updateWebhookEndpoint(
          randomUUID(),
          { description: 'x' },
          audit('admin_webhook_endpoint_updated', 'x'),
        ),
        null,
      );
      assert.equal(
        (await fixture().readAuditEvents()).filter((row) => row.event === 'admin_webhook_endpoint_updated')
          .length,
        1,
      );
    });
  });
}
