import { randomUUID } from 'node:crypto';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryTokenStore } from '../../src/storage/memory/token-store.ts';
import { MemoryUserStore } from '../../src/storage/memory/user-store.ts';
import { PostgresTokenStore } from '../../src/storage/postgres/token-store.ts';
import { insertTestUser } from '../support/database.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeTokenStoreContract } from './token-store.contract.ts';

for (const backend of [
  memoryBackend(() => {
    const database = new MemoryDatabase();
    const users = new MemoryUserStore(database);
    return {
      store: new MemoryTokenStore(database),
      async createUserId() {
        const emailKey = `user-${randomUUID()}@example.test`;
        const user = await users.insertUser({ email: emailKey, emailKey, passwordHash: 'x' });
        if (user === null) throw new Error('a fresh address was taken');
        return user.id;
      },
    };
  }),
  ...databaseBackends((database) => ({
    store: new PostgresTokenStore(database.db),
    createUserId: () => insertTestUser(database),
  })),
]) {
  describeTokenStoreContract(backend.name, () => backend.open());
}
