import { randomUUID } from 'node:crypto';
import { MemoryRefreshFamilyStore } from '../../src/storage/memory/refresh-family-store.ts';
import { PostgresRefreshFamilyStore } from '../../src/storage/postgres/refresh-family-store.ts';
import { insertTestUser } from '../support/database.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeRefreshFamilyStoreContract } from './refresh-family-store.contract.ts';

for (const backend of [
  memoryBackend(() => ({
    store: new MemoryRefreshFamilyStore(),
    createUserId: async () => randomUUID(),
  })),
  ...databaseBackends((database) => ({
    store: new PostgresRefreshFamilyStore(database.db),
    createUserId: () => insertTestUser(database),
  })),
]) {
  describeRefreshFamilyStoreContract(backend.name, () => backend.open());
}
