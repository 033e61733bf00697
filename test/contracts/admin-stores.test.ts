import { createSecretBox } from '../../src/security/secret-box.ts';
import { MemoryAdminKeyStore } from '../../src/storage/memory/admin-key-store.ts';
import { MemoryAuditTrail } from '../../src/storage/memory/audit-trail.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryTransactor } from '../../src/storage/memory/transactor.ts';
import { MemoryOutboxBrowser } from '../../src/storage/memory/outbox-browser.ts';
import { MemoryUserDirectory } from '../../src/storage/memory/user-directory.ts';
import { MemoryUserStore } from '../../src/storage/memory/user-store.ts';
import { PostgresAdminKeyStore } from '../../src/storage/postgres/admin-key-store.ts';
import { PostgresAuditTrail } from '../../src/storage/postgres/audit-trail.ts';
import { PostgresOutboxQueue } from '../../src/storage/postgres/email-outbox.ts';
import { PostgresOutboxBrowser } from '../../src/storage/postgres/outbox-browser.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { PostgresUserDirectory } from '../../src/storage/postgres/user-directory.ts';
import { PostgresUserStore } from '../../src/storage/postgres/user-store.ts';
import type { UserStore } from '../../src/flows/ports.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeAdminStoresContract, type AdminStoresUnderTest } from './admin-stores.contract.ts';

type Stores = Omit<AdminStoresUnderTest, 'close'>;

const box = createSecretBox('contract-test-secret-key-0123456789', 'email-outbox');

function userCreator(users: UserStore): (email: string) => Promise<string> {
  return async (email) => {
    const user = await users.insertUser({ email, emailKey: email.toLowerCase(), passwordHash: 'x' });
    if (user === null) throw new Error(`${email} was taken`);
    return user.id;
  };
}

const backends = [
  memoryBackend<Stores>(() => {
    const database = new MemoryDatabase();
    return {
      audit: new MemoryAuditTrail(database),
      adminKeys: new MemoryAdminKeyStore(database),
      directory: new MemoryUserDirectory(database),
      transactor: new MemoryTransactor(database),
      outbox: new MemoryOutboxBrowser(database.outbox.records),
      queue: database.outbox,
      createUser: userCreator(new MemoryUserStore(database)),
    };
  }),
  ...databaseBackends<Stores>((database) => ({
    audit: new PostgresAuditTrail(database.db),
    adminKeys: new PostgresAdminKeyStore(database.db),
    directory: new PostgresUserDirectory(database.db),
    transactor: new PostgresTransactor(database.db, { box, messageIdDomain: 'latchkey.test' }),
    outbox: new PostgresOutboxBrowser(database.db),
    queue: new PostgresOutboxQueue(database.db, { box }),
    createUser: userCreator(new PostgresUserStore(database.db)),
  })),
];
for (const backend of backends) describeAdminStoresContract(backend.name, () => backend.open());
