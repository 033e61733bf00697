import { MemorySigningKeyStore } from '../../src/storage/memory/signing-key-store.ts';
import { PostgresSigningKeyStore } from '../../src/storage/postgres/signing-key-store.ts';
import { databaseBackends, memoryBackend } from './backends.ts';
import { describeSigningKeyStoreContract } from './signing-key-store.contract.ts';

for (const backend of [
  memoryBackend(() => ({ store: new MemorySigningKeyStore() })),
  ...databaseBackends((database) => ({ store: new PostgresSigningKeyStore(database.db) })),
]) {
  describeSigningKeyStoreContract(backend.name, () => backend.open());
}
