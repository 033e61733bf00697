import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryUserStore } from '../../src/storage/memory/user-store.ts';
import { PostgresUserStore } from '../../src/storage/postgres/user-store.ts';
import { availableDatabaseKinds, openTestDatabase } from '../support/database.ts';
import { describeUserStoreContract } from './user-store.contract.ts';

describeUserStoreContract('memory', async () => ({
  store: new MemoryUserStore(new MemoryDatabase()),
  async close() {},
}));

for (const kind of availableDatabaseKinds()) {
  describeUserStoreContract(kind === 'pglite' ? 'PostgreSQL (embedded PGlite)' : 'PostgreSQL', async () => {
    const database = await openTestDatabase(kind);
    return {
      store: new PostgresUserStore(database.db),
      close: () => database.close(),
    };
  });
}
