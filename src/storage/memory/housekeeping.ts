import type { DeletedRecordCounts, ExpiredRecordsStore } from '../../flows/ports.ts';
import type { MemoryDatabase } from './database.ts';
import type { MemorySessionStore } from './session-store.ts';

/** The clean-up on a MemoryDatabase and its sessions, deleting what the PostgreSQL one deletes. */
export class MemoryExpiredRecordsStore implements ExpiredRecordsStore {
  readonly #database: MemoryDatabase;
  readonly #sessions: MemorySessionStore;

  constructor(database: MemoryDatabase, sessions: MemorySessionStore) {
    this.#database = database;
    this.#sessions = sessions;
  }

  async deleteExpiredRecords(cutoffs: {
    tokensBefore: Date;
    sessionsBefore: Date;
    finishedEmailsBefore: Date;
  }): Promise<DeletedRecordCounts> {
    const tokensBefore = cutoffs.tokensBefore.getTime();
    let tokens = 0;
    for (const token of this.#database.tokens.rows()) {
      const ended =
        token.expiresAt.getTime() < tokensBefore ||
        (token.consumedAt !== null && token.consumedAt.getTime() < tokensBefore);
      if (ended && this.#database.tokens.delete(token.tokenHash, undefined)) tokens += 1;
    }
    const sessions = this.#sessions.deleteSessionsExpiredBefore(cutoffs.sessionsBefore);
    // Only finished mail: queued or leased entries are promises not yet kept.
    const records = this.#database.outbox.records;
    const kept = records.filter(
      (record) =>
        (record.status !== 'sent' && record.status !== 'abandoned') ||
        (record.sentAt ?? record.createdAt).getTime() >= cutoffs.finishedEmailsBefore.getTime(),
    );
    const emails = records.length - kept.length;
    records.splice(0, records.length, ...kept);
    return { tokens, sessions, emails };
  }
}
