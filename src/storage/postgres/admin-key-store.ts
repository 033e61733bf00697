import { and, eq, isNull, sql } from './drizzle.ts';
import type { AdminKey, AdminKeyStore } from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { adminKeys } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

const adminKeyColumns = {
  id: adminKeys.id,
  name: adminKeys.name,
  createdAt: adminKeys.createdAt,
  lastUsedAt: adminKeys.lastUsedAt,
  revokedAt: adminKeys.revokedAt,
};

export class PostgresAdminKeyStore extends PostgresStore implements AdminKeyStore {
  async insertAdminKey(input: { readonly name: string; readonly keyHash: string }): Promise<AdminKey> {
    const rows = await this.db.insert(adminKeys).values(input).returning(adminKeyColumns);
    const row = rows[0];
    if (row === undefined) throw new Error('insert returned no admin key');
    return row;
  }

  async findAdminKeyByHash(keyHash: string): Promise<AdminKey | null> {
    const rows = await this.db
      .select(adminKeyColumns)
      .from(adminKeys)
      .where(eq(adminKeys.keyHash, keyHash))
      .limit(1);
    return rows[0] ?? null;
  }

  async listAdminKeys(): Promise<AdminKey[]> {
    return this.db.select(adminKeyColumns).from(adminKeys).orderBy(adminKeys.createdAt, adminKeys.id);
  }

  async revokeAdminKey(keyId: string, at: Date): Promise<boolean> {
    const rows = await this.db
      .update(adminKeys)
      .set({ revokedAt: at })
      .where(and(eq(adminKeys.id, keyId), isNull(adminKeys.revokedAt)))
      .returning({ id: adminKeys.id });
    return rows.length > 0;
  }

  async recordAdminKeyUse(keyId: string, at: Date, unlessSince: Date): Promise<void> {
    await this.db
      .update(adminKeys)
      .set({ lastUsedAt: at })
      .where(
        and(
          eq(adminKeys.id, keyId),
          sql`(${adminKeys.lastUsedAt} is null or ${adminKeys.lastUsedAt} <= ${unlessSince.toISOString()}::timestamptz)`,
        ),
      );
  }
}
translatePostgresOutages(PostgresAdminKeyStore.prototype);
