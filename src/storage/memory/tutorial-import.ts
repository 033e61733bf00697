import { randomUUID } from 'node:crypto';
import type {
  ImportedAccount,
  TutorialImportStore,
  TutorialUser,
  TutorialUserMapping,
  TutorialUserSource,
} from '../../flows/ports.ts';
import { MemoryDatabaseStore, type MemoryDatabase } from './database.ts';

/** The map rows of each memory database, beside its users. */
const mappingsByDatabase = new WeakMap<MemoryDatabase, Map<number, TutorialUserMapping>>();

export class MemoryTutorialImportStore extends MemoryDatabaseStore implements TutorialImportStore {
  get #mappings(): Map<number, TutorialUserMapping> {
    let mappings = mappingsByDatabase.get(this.database);
    if (mappings === undefined) {
      mappings = new Map();
      mappingsByDatabase.set(this.database, mappings);
    }
    return mappings;
  }

  async findImportedTutorialIds(tutorialIds: readonly number[]): Promise<Set<number>> {
    return new Set(tutorialIds.filter((id) => this.#mappings.has(id)));
  }

  async findTakenEmailKeys(emailKeys: readonly string[]): Promise<Set<string>> {
    return new Set(emailKeys.filter((key) => this.database.users.get(key) !== undefined));
  }

  async insertImportedAccounts(
    accounts: readonly ImportedAccount[],
    importedAt: Date,
  ): Promise<{ inserted: TutorialUserMapping[]; notInserted: number[] }> {
    const inserted: TutorialUserMapping[] = [];
    const notInserted: number[] = [];
    for (const account of accounts) {
      if (this.database.users.get(account.emailKey) !== undefined || this.#mappings.has(account.tutorialId)) {
        notInserted.push(account.tutorialId);
        continue;
      }
      const userId = randomUUID();
      const { tutorialId, ...fields } = account;
      this.database.users.put(
        account.emailKey,
        { id: userId, ...fields, deletedAt: null, locale: null },
        this.journal,
      );
      const mapping = { tutorialId, userId, importedAt };
      this.#mappings.set(tutorialId, mapping);
      inserted.push(mapping);
    }
    return { inserted, notInserted };
  }

  async listTutorialUserMappings(afterTutorialId: number, limit: number): Promise<TutorialUserMapping[]> {
    const liveUserIds = new Set(this.database.users.rows().map((user) => user.id));
    return [...this.#mappings.values()]
      .filter((mapping) => mapping.tutorialId > afterTutorialId)
      .sort((a, b) => a.tutorialId - b.tutorialId)
      .slice(0, limit)
      .map((mapping) => ({
        ...mapping,
        userId: mapping.userId !== null && liveUserIds.has(mapping.userId) ? mapping.userId : null,
      }));
  }
}

/** A tutorial `users` table held in memory, for tests of the import's rules. */
export class MemoryTutorialUserSource implements TutorialUserSource {
  readonly #rows: readonly TutorialUser[];
  constructor(rows: readonly TutorialUser[]) {
    this.#rows = [...rows].sort((a, b) => a.id - b.id);
  }

  async readTutorialUsers(afterId: number, limit: number): Promise<TutorialUser[]> {
    return this.#rows.filter((row) => row.id > afterId).slice(0, limit);
  }
}
