import { createSecretBox } from '../../src/security/secret-box.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryTransactor } from '../../src/storage/memory/transactor.ts';
import { MemoryWebhookQueue } from '../../src/storage/memory/webhook-deliveries.ts';
import { MemoryWebhookEndpointStore } from '../../src/storage/memory/webhook-endpoints.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { PostgresWebhookQueue } from '../../src/storage/postgres/webhook-deliveries.ts';
import { PostgresWebhookEndpointStore } from '../../src/storage/postgres/webhook-endpoints.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import {
  describeWebhookEndpointsContract,
  type WebhookEndpointsUnderTest,
} from './webhook-endpoints.contract.ts';

type Endpoints = Omit<WebhookEndpointsUnderTest, 'close'>;

const memory = memoryBackend<Endpoints>(() => {
  let database = new MemoryDatabase();
  return {
    createTransactor: (webhooks) => new MemoryTransactor(database, { webhooks }),
    createQueue: () => new MemoryWebhookQueue(database),
    createEndpoints: () => new MemoryWebhookEndpointStore(database),
    async readAuditEvents() {
      return database.auditEvents
        .rows()
        .filter((row) => row.event.startsWith('admin_'))
        .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime())
        .map((row) => ({ event: row.event, outcome: row.outcome }));
    },
    async clear() {
      database = new MemoryDatabase();
    },
  };
});
describeWebhookEndpointsContract(memory.name, () => memory.open());

const secretKey = 'contract-secret-key-0123456789abcdef0123456789';
for (const backend of databaseBackends<Endpoints>((database) => ({
  createTransactor: (webhooks) =>
    new PostgresTransactor(database.db, {
      box: createSecretBox(secretKey, 'email-outbox'),
      messageIdDomain: 'mail.latchkey.test',
      webhooks,
    }),
  createQueue: () => new PostgresWebhookQueue(database.db),
  createEndpoints: () =>
    new PostgresWebhookEndpointStore(database.db, createSecretBox(secretKey, 'webhook-endpoint-secret')),
  async readAuditEvents() {
    const result = await database.pool.query<{ event: string; outcome: string }>(
      "select event, outcome from audit_events where event like 'admin\\_%' order by occurred_at, id",
    );
    return result.rows;
  },
  async clear() {
    await database.pool.query(
      'delete from webhook_deliveries; delete from disabled_webhook_endpoints; delete from webhook_endpoints; delete from audit_events',
    );
  },
}))) {
  describeWebhookEndpointsContract(backend.name, () => backend.open());
}
