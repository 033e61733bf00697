import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, test } from 'node:test';
import { completeAuditEvent, type AuditEventName } from '../../src/flows/audit.ts';
import type { Transactor } from '../../src/flows/ports.ts';
import type { WebhookDeliveryBrowser, WebhookQueue, WebhookTargets } from '../../src/flows/webhooks.ts';
import { describeContract } from './describe-contract.ts';

export interface WebhookDeliveriesUnderTest {
  /** A transactor whose audit trail queues deliveries for `targets`, as the service builds it. */
  createTransactor(targets: WebhookTargets): Transactor;
  /** One more dispatcher's queue on the same deliveries, which operators list through too. */
  createQueue(): WebhookQueue & WebhookDeliveryBrowser;
  /** Empties the deliveries and the disabled endpoints, so that every rule starts afresh. */
  clearDeliveries(): Promise<void>;
  close(): Promise<void>;
}

const endpoints = ['https://hooks.example.com/a', 'https://hooks.example.net/b'];
const leaseSeconds = 30;

export function describeWebhookDeliveriesContract(
  backendName: string,
  open: () => Promise<WebhookDeliveriesUnderTest>,
): void {
  describeContract(`webhook deliveries contract (${backendName})`, open, 'suite', (fixture) => {
    let queued = 0;
    let transactor: Transactor;
    let queue: WebhookQueue & WebhookDeliveryBrowser;

    beforeEach(async () => {
      await fixture().clearDeliveries();
      queued = 0;
      transactor = fixture().createTransactor({ urls: endpoints, onQueued: () => (queued += 1) });
      queue = fixture().createQueue();
    });

    /** Creates an account and records `event` for it in the same transaction; `fail` rolls both back. */
    async function recordEvent(event: AuditEventName, outcome = 'success', fail = false): Promise<string> {
      let userId = '';
      await transactor
        .runInTransaction(async (stores) => {
          const address = `${randomUUID()}@example.com`;
          const user = await stores.users.insertUser({
            email: address,
            emailKey: address,
            passwordHash: 'x',
          });
          assert.ok(user !== null);
          userId = user.id;
          await stores.audit.appendAuditEvent(completeAuditEvent({ event, outcome, userId }, new Date()));
          if (fail) throw new Error('the change fails after its event');
        })
        .catch((error: unknown) => {
          if (!fail) throw error;
        });
      return userId;
    }

    const claim = (at = new Date()): ReturnType<WebhookQueue['claimDueWebhookDeliveries']> =>
      queue.claimDueWebhookDeliveries(10, at, leaseSeconds);

    test('a committed event queues one delivery per endpoint, each with its own webhook-id, after the commit', async () => {
      const userId = await recordEvent('login');
      assert.equal(queued, 1);
      const deliveries = await claim();
      assert.deepEqual(deliveries.map((delivery) => delivery.endpointUrl).sort(), endpoints);
      assert.equal(new Set(deliveries.map((delivery) => delivery.webhookId)).size, 2);
      for (const delivery of deliveries) {
        assert.match(delivery.webhookId, /^msg_[0-9a-f]{32}$/);
        assert.equal(delivery.eventType, 'user.login');
        assert.equal(delivery.attempts, 1);
        const body = JSON.parse(delivery.payload) as {
          type: string;
          timestamp: string;
          data: { user_id: string };
        };
        assert.equal(body.type, 'user.login');
        assert.equal(body.data.user_id, userId);
        assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
      }
    });

    test('a change rolled back leaves no delivery behind', async () => {
      await recordEvent('login', 'success', true);
      assert.equal(queued, 0);
      assert.deepEqual(await claim(), []);
      assert.equal(await queue.findOldestPendingWebhookAt(), null);
    });

    test('events receivers do not hear of (a failed login, an admin lookup) queue nothing', async () => {
      await recordEvent('login', 'wrong_password');
      await recordEvent('admin_user_view');
      assert.deepEqual(await claim(), []);
    });

    test('a leased delivery goes to one dispatcher; an expired lease hands it out again with the same webhook-id', async () => {
      await recordEvent('registration');
      const first = await claim();
      assert.equal(first.length, 2);
      assert.deepEqual(
        await fixture().createQueue().claimDueWebhookDeliveries(10, new Date(), leaseSeconds),
        [],
      );
      const later = new Date(Date.now() + (leaseSeconds + 1) * 1000);
      const again = await fixture().createQueue().claimDueWebhookDeliveries(10, later, leaseSeconds);
      assert.deepEqual(
        again.map((delivery) => delivery.webhookId).sort(),
        first.map((delivery) => delivery.webhookId).sort(),
      );
      assert.ok(again.every((delivery) => delivery.attempts === 2));
    });

    test('a retry is due at its time, not before; a delivered one is never handed out again', async () => {
      await recordEvent('password_change');
      const [retried, delivered] = await claim();
      assert.ok(retried !== undefined && delivered !== undefined);
      const retryAt = new Date(Date.now() + 60_000);
      await queue.scheduleWebhookRetry(retried.id, retryAt, 'answered 500');
      await queue.markWebhookDelivered(delivered.id, new Date());
      assert.deepEqual(await claim(), []);
      const due = await claim(new Date(retryAt.getTime() + 1000));
      assert.deepEqual(
        due.map((delivery) => [delivery.id, delivery.webhookId, delivery.attempts]),
        [[retried.id, retried.webhookId, 2]],
      );
    });

    test('a disabled endpoint gets nothing more: its waiting deliveries are abandoned and new events skip it', async () => {
      await recordEvent('login');
      const [gone] = endpoints;
      assert.ok(gone !== undefined);
      await queue.disableWebhookEndpoint(gone, 'answered 410 Gone', new Date());
      await recordEvent('logout');
      const deliveries = await claim();
      assert.deepEqual(
        deliveries.map((delivery) => delivery.endpointUrl),
        [endpoints[1], endpoints[1]],
      );
    });

    test('the oldest waiting delivery is reported until it is delivered or abandoned', async () => {
      const before = Date.now();
      await recordEvent('admin_disable');
      const oldest = await queue.findOldestPendingWebhookAt();
      assert.ok(oldest !== null && oldest.getTime() >= before - 1000);
      for (const delivery of await claim()) await queue.markWebhookAbandoned(delivery.id, 'gave up');
      assert.equal(await queue.findOldestPendingWebhookAt(), null);
    });

    test('operators list deliveries by status (leased ones as pending), oldest first, a page at a time, to the end', async () => {
      await recordEvent('login');
      await recordEvent('logout');
      const [leased] = await queue.claimDueWebhookDeliveries(1, new Date(), leaseSeconds);
      assert.ok(leased !== undefined);
      const [delivered] = await claim();
      assert.ok(delivered !== undefined);
      await queue.markWebhookDelivered(delivered.id, new Date());
      const list = (status: 'pending' | 'delivered' | 'abandoned' | null) =>
        queue.listWebhookDeliveries({ status, after: null, limit: 10 });
      const pending = await list('pending');
      assert.equal(pending.rows.length, 3);
      assert.ok(pending.rows.some((row) => row.id === leased.id));
      const done = await list('delivered');
      assert.deepEqual(
        done.rows.map((row) => [row.id, row.webhookId, row.status, row.deliveredAt !== null]),
        [[delivered.id, delivered.webhookId, 'delivered', true]],
      );
      assert.deepEqual((await list('abandoned')).rows, []);
      const ids: string[] = [];
      let page = await queue.listWebhookDeliveries({ status: null, after: null, limit: 3 });
      ids.push(...page.rows.map((row) => row.id));
      while (page.next !== null) {
        page = await queue.listWebhookDeliveries({ status: null, after: page.next, limit: 3 });
        ids.push(...page.rows.map((row) => row.id));
      }
      assert.equal(ids.length, 4);
      assert.equal(new Set(ids).size, 4);
    });
  });
}
