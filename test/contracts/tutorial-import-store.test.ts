import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryTutorialImportStore } from '../../src/storage/memory/tutorial-import.ts';
import { MemoryUserStore } from '../../src/storage/memory/user-store.ts';
import { PostgresTutorialImportStore } from '../../src/storage/postgres/tutorial-import-store.ts';
import { PostgresUserStore } from '../../src/storage/postgres/user-store.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeTutorialImportStoreContract } from './tutorial-import-store.contract.ts';

for (const backend of [
  memoryBackend(() => {
    const database = new MemoryDatabase();
    return {
      store: new MemoryTutorialImportStore(database),
      users: new MemoryUserStore(database),
      async deleteUser(userId: string) {
        const user = database.users.rows().find((row) => row.id === userId);
        if (user !== undefined) database.users.delete(user.emailKey, undefined);
      },
    };
  }),
  ...databaseBackends((database) => ({
    store: new PostgresTutorialImportStore(database.db),
    users: new PostgresUserStore(database.db),
    async deleteUser(userId: string) {
      await database.pool.query('delete from users where id = $1', [userId]);
    },
  })),
]) {
  describeTutorialImportStoreContract(backend.name, () => backend.open());
}
