import { createSecretBox } from '../../src/security/secret-box.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryTransactor } from '../../src/storage/memory/transactor.ts';
import { PostgresOutboxQueue } from '../../src/storage/postgres/email-outbox.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import {
  describeEmailOutboxContract,
  type EmailOutboxUnderTest,
  type StoredOutboxEntry,
} from './email-outbox.contract.ts';

// The purpose src/composition/database.ts derives the outbox key for, so these boxes are the service's own.
const outboxKeyPurpose = 'email-outbox';

type Outbox = Omit<EmailOutboxUnderTest, 'close'>;

const memory = memoryBackend<Outbox>(() => {
  const database = new MemoryDatabase();
  return {
    createTransactor: ({ messageIdDomain, onEmailCommitted }) =>
      new MemoryTransactor(database, {
        messageIdDomain,
        ...(onEmailCommitted === undefined ? {} : { onEmailCommitted }),
      }),
    createQueue: () => database.outbox.createSibling(),
    async listStoredEntries() {
      return database.emails.map((record) => ({
        id: record.id,
        status: record.status,
        payload: JSON.stringify(record.message),
        lastError: record.lastError,
        storedText: JSON.stringify(record),
      }));
    },
    async clearOutbox() {
      database.outbox.records.length = 0;
    },
  };
});
describeEmailOutboxContract(memory.name, () => memory.open(), { sealsStoredMessages: false });

const databases = databaseBackends<Outbox>((database) => ({
  createTransactor: ({ secretKey, messageIdDomain, onEmailCommitted }) =>
    new PostgresTransactor(database.db, {
      box: createSecretBox(secretKey, outboxKeyPurpose),
      messageIdDomain,
      ...(onEmailCommitted === undefined ? {} : { onEmailCommitted }),
    }),
  createQueue: ({ secretKey }) =>
    new PostgresOutboxQueue(database.db, { box: createSecretBox(secretKey, outboxKeyPurpose) }),
  async listStoredEntries() {
    const result = await database.pool.query<{
      id: string;
      status: StoredOutboxEntry['status'];
      payload: string | null;
      last_error: string | null;
      stored_text: string;
    }>(
      `select id, status, payload, last_error, row_to_json(email_outbox)::text as stored_text
       from email_outbox order by created_at, id`,
    );
    return result.rows.map((row) => ({
      id: row.id,
      status: row.status,
      payload: row.payload,
      lastError: row.last_error,
      storedText: row.stored_text,
    }));
  },
  async clearOutbox() {
    await database.pool.query('delete from email_outbox');
  },
}));
for (const backend of databases) {
  describeEmailOutboxContract(backend.name, () => backend.open(), { sealsStoredMessages: true });
}
