import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { MemoryUserStore } from '../../src/storage/memory/user-store.ts';
import { PostgresUserStore } from '../../src/storage/postgres/user-store.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeUserStoreContract } from './user-store.contract.ts';

for (const backend of [
  memoryBackend(() => ({ store: new MemoryUserStore(new MemoryDatabase()) })),
  ...databaseBackends((database) => ({ store: new PostgresUserStore(database.db) })),
]) {
  describeUserStoreContract(backend.name, () => backend.open());
}
