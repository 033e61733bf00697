import { createSecretBox } from '../../src/security/secret-box.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { createMemoryExpiredRecordsStore } from '../../src/storage/memory/housekeeping.ts';
import { MemorySessionStore } from '../../src/storage/memory/session-store.ts';
import { MemoryTransactor } from '../../src/storage/memory/transactor.ts';
import { PostgresOutboxQueue } from '../../src/storage/postgres/email-outbox.ts';
import { PostgresExpiredRecordsStore } from '../../src/storage/postgres/housekeeping.ts';
import { PostgresSessionStore } from '../../src/storage/postgres/session-store.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeExpiredRecordsContract } from './expired-records.contract.ts';

for (const backend of [
  memoryBackend(() => {
    const database = new MemoryDatabase();
    const sessions = new MemorySessionStore();
    return {
      store: createMemoryExpiredRecordsStore(database, sessions),
      transactor: new MemoryTransactor(database),
      sessions,
      queue: database.outbox,
    };
  }),
  ...databaseBackends((database) => {
    const box = createSecretBox('contract-secret-key-0123456789abcdef0123456789', 'email-outbox');
    return {
      store: new PostgresExpiredRecordsStore(database.db),
      transactor: new PostgresTransactor(database.db, { box, messageIdDomain: 'mail.latchkey.test' }),
      sessions: new PostgresSessionStore(database.db),
      queue: new PostgresOutboxQueue(database.db, { box }),
    };
  }),
]) {
  describeExpiredRecordsContract(backend.name, () => backend.open());
}
