import type { WebhookTargets } from '../../src/flows/webhooks.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { createMemoryExpiredRecordsStore } from '../../src/storage/memory/housekeeping.ts';
import { MemorySessionStore } from '../../src/storage/memory/session-store.ts';
import { MemoryTransactor } from '../../src/storage/memory/transactor.ts';
import { MemoryWebhookQueue } from '../../src/storage/memory/webhook-deliveries.ts';
import { PostgresOutboxQueue } from '../../src/storage/postgres/email-outbox.ts';
import { PostgresExpiredRecordsStore } from '../../src/storage/postgres/housekeeping.ts';
import { PostgresSessionStore } from '../../src/storage/postgres/session-store.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { PostgresWebhookQueue } from '../../src/storage/postgres/webhook-deliveries.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeExpiredRecordsContract, expiredRecordsWebhookUrl } from './expired-records.contract.ts';

/** The store's webhook targets, counting its announcements (the transactor's are not counted). */
function createTargets(): { webhooks: WebhookTargets; announcements: () => number } {
  let announced = 0;
  return {
    webhooks: { urls: [expiredRecordsWebhookUrl], onQueued: () => (announced += 1) },
    announcements: () => announced,
  };
}

for (const backend of [
  memoryBackend(() => {
    const database = new MemoryDatabase();
    const sessions = new MemorySessionStore();
    const { webhooks, announcements } = createTargets();
    return {
      store: createMemoryExpiredRecordsStore(database, sessions, webhooks),
      transactor: new MemoryTransactor(database, { webhooks: { urls: webhooks.urls } }),
      sessions,
      queue: database.outbox,
      webhooks: new MemoryWebhookQueue(database),
      announcements,
    };
  }),
  ...databaseBackends((database) => {
    const box = createSecretBox('contract-secret-key-0123456789abcdef0123456789', 'email-outbox');
    const { webhooks, announcements } = createTargets();
    return {
      store: new PostgresExpiredRecordsStore(database.db, webhooks),
      transactor: new PostgresTransactor(database.db, {
        box,
        messageIdDomain: 'mail.latchkey.test',
        webhooks: { urls: webhooks.urls },
      }),
      sessions: new PostgresSessionStore(database.db),
      queue: new PostgresOutboxQueue(database.db, { box }),
      webhooks: new PostgresWebhookQueue(database.db),
      announcements,
    };
  }),
]) {
  describeExpiredRecordsContract(backend.name, () => backend.open());
}
