import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { completeAuditEvent } from '../../src/flows/audit.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import {
  MemoryWebhookQueue,
  queueMemoryWebhookDeliveries,
} from '../../src/storage/memory/webhook-deliveries.ts';
import { MemoryWebhookEndpointStore } from '../../src/storage/memory/webhook-endpoints.ts';
import { startWebhookDispatcher } from '../../src/webhooks/dispatcher.ts';
import { waitUntil } from '../support/wait.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

test('a delivery whose managed endpoint is deleted while it is leased is abandoned, never sent', async () => {
  const receiver = await startWebhookReceiver(() => ({ status: 204 }));
  const database = new MemoryDatabase();
  const queue = new MemoryWebhookQueue(database);
  const endpoints = new MemoryWebhookEndpointStore(database);
  const audit = completeAuditEvent(
    { event: 'admin_webhook_endpoint_deleted', outcome: 'x', userId: null },
    new Date(),
  );
  const endpoint = await endpoints.insertWebhookEndpoint(
    {
      url: receiver.url('/hook'),
      description: '',
      eventTypes: [],
      secret: `whsec_${Buffer.alloc(24, 2).toString('base64')}`,
    },
    () => audit,
  );
  const event = completeAuditEvent({ event: 'login', outcome: 'success', userId: 'user-1' }, new Date());
  assert.equal(queueMemoryWebhookDeliveries(database, undefined, event, { urls: [] }), 1);
  const lookups: string[] = [];
  const dispatcher = startWebhookDispatcher({
    queue,
    secrets: [],
    // The delete commits after the claim and before the attempt looks up the endpoint's secrets.
    findEndpointSecrets: async (endpointId, now) => {
      lookups.push(endpointId);
      await endpoints.deleteWebhookEndpoint(endpointId, audit);
      return endpoints.findWebhookSigningSecrets(endpointId, now);
    },
    logger: pino({ level: 'silent' }),
    pollIntervalMilliseconds: 50,
    timeoutMilliseconds: 1_000,
    allowPrivateTargets: true,
    retryMaxMilliseconds: 1_000,
  });
  try {
    await waitUntil(
      'the delivery is abandoned',
      () => database.webhookDeliveries.rows().every((row) => row.status === 'abandoned'),
      { timeoutMilliseconds: 5_000 },
    );
    assert.deepEqual(lookups, [endpoint.id]);
    assert.deepEqual(
      database.webhookDeliveries.rows().map((row) => row.lastError),
      ['endpoint deleted'],
    );
    assert.deepEqual(receiver.received, []);
  } finally {
    await dispatcher.stop();
    await receiver.close();
  }
});
