import { PostgresTokenStore } from '../../src/storage/postgres/token-store.ts';
import { availableDatabaseKinds, insertTestUser, openTestDatabase } from '../support/database.ts';
import { describeTokenStoreContract } from './token-store.contract.ts';

for (const kind of availableDatabaseKinds()) {
  describeTokenStoreContract(kind === 'pglite' ? 'PostgreSQL (embedded PGlite)' : 'PostgreSQL', async () => {
    const database = await openTestDatabase(kind);
    return {
      store: new PostgresTokenStore(database.db),
      createUserId: () => insertTestUser(database),
      close: () => database.close(),
    };
  });
}
