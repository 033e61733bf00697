import { sql } from './drizzle.ts';
import type { ImportedAccount, TutorialImportStore, TutorialUserMapping } from '../../flows/ports.ts';
import type { Db } from './database.ts';
import { importedTutorialUsers, users } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

export class PostgresTutorialImportStore implements TutorialImportStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async findImportedTutorialIds(tutorialIds: readonly number[]): Promise<Set<number>> {
    if (tutorialIds.length === 0) return new Set();
    const rows = await this.#db
      .select({ tutorialId: importedTutorialUsers.tutorialId })
      .from(importedTutorialUsers)
      .where(sql`${importedTutorialUsers.tutorialId} = any(${sql.param([...tutorialIds])}::integer[])`);
    return new Set(rows.map((row) => row.tutorialId));
  }

  async findTakenEmailKeys(emailKeys: readonly string[]): Promise<Set<string>> {
    if (emailKeys.length === 0) return new Set();
    const rows = await this.#db
      .select({ emailKey: users.emailKey })
      .from(users)
      .where(sql`${users.emailKey} = any(${sql.param([...emailKeys])}::text[])`);
    return new Set(rows.map((row) => row.emailKey));
  }

  async insertImportedAccounts(
    accounts: readonly ImportedAccount[],
    importedAt: Date,
  ): Promise<{ inserted: TutorialUserMapping[]; notInserted: number[] }> {
    if (accounts.length === 0) return { inserted: [], notInserted: [] };
    return this.#db.transaction(async (tx) => {
      const created = await tx
        .insert(users)
        .values(
          accounts.map((account) => ({
            email: account.email,
            emailKey: account.emailKey,
            passwordHash: account.passwordHash,
            isActive: account.isActive,
            isVerified: account.isVerified,
            createdAt: account.createdAt,
            updatedAt: importedAt,
          })),
        )
        .onConflictDoNothing({ target: users.emailKey })
        .returning({ id: users.id, emailKey: users.emailKey });
      const userIdByEmailKey = new Map(created.map((row) => [row.emailKey, row.id]));
      const mapped = accounts.flatMap((account) => {
        const userId = userIdByEmailKey.get(account.emailKey);
        return userId === undefined ? [] : [{ tutorialId: account.tutorialId, userId, importedAt }];
      });
      const written =
        mapped.length === 0
          ? []
          : await tx
              .insert(importedTutorialUsers)
              .values(mapped)
              .onConflictDoNothing({ target: importedTutorialUsers.tutorialId })
              .returning({ tutorialId: importedTutorialUsers.tutorialId });
      // A tutorial id mapped meanwhile (by another import running at the same time) keeps its first account;
      // the one just created for it goes, so no tutorial user ever becomes two accounts.
      const writtenIds = new Set(written.map((row) => row.tutorialId));
      const orphans = mapped.filter((row) => !writtenIds.has(row.tutorialId)).map((row) => row.userId);
      if (orphans.length > 0) {
        await tx.delete(users).where(sql`${users.id} = any(${sql.param(orphans)}::uuid[])`);
      }
      return {
        inserted: mapped.filter((row) => writtenIds.has(row.tutorialId)),
        notInserted: accounts
          .map((account) => account.tutorialId)
          .filter((tutorialId) => !writtenIds.has(tutorialId)),
      };
    });
  }

  async listTutorialUserMappings(afterTutorialId: number, limit: number): Promise<TutorialUserMapping[]> {
    return this.#db
      .select({
        tutorialId: importedTutorialUsers.tutorialId,
        userId: importedTutorialUsers.userId,
        importedAt: importedTutorialUsers.importedAt,
      })
      .from(importedTutorialUsers)
      .where(sql`${importedTutorialUsers.tutorialId} > ${afterTutorialId}::bigint`)
      .orderBy(importedTutorialUsers.tutorialId)
      .limit(limit);
  }
}
translatePostgresOutages(PostgresTutorialImportStore.prototype);
