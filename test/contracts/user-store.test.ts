import { PostgresUserStore } from '../../src/storage/postgres/user-store.ts';
import { availableDatabaseKinds, openTestDatabase } from '../support/database.ts';
import { describeUserStoreContract } from './user-store.contract.ts';

for (const kind of availableDatabaseKinds()) {
  describeUserStoreContract(kind === 'pglite' ? 'PostgreSQL (embedded PGlite)' : 'PostgreSQL', async () => {
    const database = await openTestDatabase(kind);
    return {
      store: new PostgresUserStore(database.db),
      close: () => database.close(),
    };
  });
}
