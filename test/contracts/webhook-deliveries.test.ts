import { createSecretBox } from '../../src/security/secret-box.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryTransactor } from '../../src/storage/memory/transactor.ts';
import { MemoryWebhookQueue } from '../../src/storage/memory/webhook-deliveries.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { PostgresWebhookQueue } from '../../src/storage/postgres/webhook-deliveries.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import {
  describeWebhookDeliveriesContract,
  type WebhookDeliveriesUnderTest,
} from './webhook-deliveries.contract.ts';

type Deliveries = Omit<WebhookDeliveriesUnderTest, 'close'>;

const memory = memoryBackend<Deliveries>(() => {
  let database = new MemoryDatabase();
  return {
    createTransactor: (webhooks) => new MemoryTransactor(database, { webhooks }),
    createQueue: () => new MemoryWebhookQueue(database),
    async clearDeliveries() {
      database = new MemoryDatabase();
    },
  };
});
describeWebhookDeliveriesContract(memory.name, () => memory.open());

for (const backend of databaseBackends<Deliveries>((database) => ({
  createTransactor: (webhooks) =>
    new PostgresTransactor(database.db, {
      box: createSecretBox('contract-secret-key-0123456789abcdef0123456789', 'email-outbox'),
      messageIdDomain: 'mail.latchkey.test',
      webhooks,
    }),
  createQueue: () => new PostgresWebhookQueue(database.db),
  async clearDeliveries() {
    await database.pool.query('delete from webhook_deliveries; delete from disabled_webhook_endpoints');
  },
}))) {
  describeWebhookDeliveriesContract(backend.name, () => backend.open());
}
