import { randomUUID } from 'node:crypto';
import type { AdminKey, AdminKeyStore } from '../../flows/ports.ts';
import { MemoryDatabaseStore } from './database.ts';

/** Operator keys in memory, keyed by id. */
export class MemoryAdminKeyStore extends MemoryDatabaseStore implements AdminKeyStore {
  async insertAdminKey(input: { readonly name: string; readonly keyHash: string }): Promise<AdminKey> {
    const row = {
      id: randomUUID(),
      name: input.name,
      keyHash: input.keyHash,
      createdAt: this.database.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
    };
    this.database.adminKeys.put(row.id, row, this.journal);
    return publicView(row);
  }

  async findAdminKeyByHash(keyHash: string): Promise<AdminKey | null> {
    const row = this.database.adminKeys.rows().find((key) => key.keyHash === keyHash);
    return row === undefined ? null : publicView(row);
  }

  async listAdminKeys(): Promise<AdminKey[]> {
    return this.database.adminKeys
      .rows()
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .map(publicView);
  }

  async revokeAdminKey(keyId: string, at: Date): Promise<boolean> {
    const row = this.database.adminKeys.get(keyId);
    if (row === undefined || row.revokedAt !== null) return false;
    this.database.adminKeys.put(keyId, { ...row, revokedAt: at }, this.journal);
    return true;
  }

  async recordAdminKeyUse(keyId: string, at: Date, unlessSince: Date): Promise<void> {
    const row = this.database.adminKeys.get(keyId);
    if (row === undefined || (row.lastUsedAt !== null && row.lastUsedAt > unlessSince)) return;
    this.database.adminKeys.put(keyId, { ...row, lastUsedAt: at }, this.journal);
  }
}

function publicView(row: AdminKey & { readonly keyHash: string }): AdminKey {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}
