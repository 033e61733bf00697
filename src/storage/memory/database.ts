import type { User } from '../../flows/model.ts';
import type { TokenPurpose } from '../../flows/model.ts';
import type { AdminKey, Clock, StoredAuditEvent } from '../../flows/ports.ts';
import { systemClock } from './clock.ts';
import { MemoryOutboxQueue, type OutboxRecord } from './email-outbox.ts';
import type { MemoryWebhookRow } from './webhook-deliveries.ts';
import type { MemoryWebhookEndpointRow } from './webhook-endpoints.ts';

/** One emailed token as stored: only its hash. */
export interface TokenRow {
  readonly tokenHash: string;
  readonly purpose: TokenPurpose;
  readonly userId: string;
  readonly expiresAt: Date;
  readonly consumedAt: Date | null;
  readonly email?: string;
}

/**
 * The writes of one transaction, each with the step that takes it back: a failed transaction undoes them in
 * reverse order, so none of its writes survives.
 */
export class Journal {
  readonly #undoSteps: (() => void)[] = [];

  record(undo: () => void): void {
    this.#undoSteps.push(undo);
  }

  rollBack(): void {
    for (const undo of this.#undoSteps.reverse()) undo();
    this.#undoSteps.length = 0;
  }
}

/** Rows by key. Rows are replaced, never changed in place, so a journal can put the previous one back. */
export class MemoryTable<Row> {
  readonly #rows = new Map<string, Row>();

  get(key: string): Row | undefined {
    return this.#rows.get(key);
  }

  rows(): Row[] {
    return [...this.#rows.values()];
  }

  put(key: string, row: Row, journal: Journal | undefined): void {
    this.#remember(key, journal);
    this.#rows.set(key, row);
  }

  delete(key: string, journal: Journal | undefined): boolean {
    if (!this.#rows.has(key)) return false;
    this.#remember(key, journal);
    return this.#rows.delete(key);
  }

  #remember(key: string, journal: Journal | undefined): void {
    if (journal === undefined) return;
    const previous = this.#rows.get(key);
    journal.record(() => {
      if (previous === undefined) this.#rows.delete(key);
      else this.#rows.set(key, previous);
    });
  }
}

/** A store on a MemoryDatabase; with a journal, every write it makes can be rolled back (MemoryTransactor). */
export abstract class MemoryDatabaseStore {
  protected readonly database: MemoryDatabase;
  protected readonly journal: Journal | undefined;

  constructor(database: MemoryDatabase, journal?: Journal) {
    this.database = database;
    this.journal = journal;
  }
}

/**
 * What the PostgreSQL database holds (users keyed by address key, tokens by hash, the outbox), kept in this
 * process: for tests of the flows, which then run in milliseconds. Every store, transactor and queue built
 * on one MemoryDatabase sees the same rows.
 */
export class MemoryDatabase {
  readonly users = new MemoryTable<User>();
  readonly tokens = new MemoryTable<TokenRow>();
  readonly auditEvents = new MemoryTable<StoredAuditEvent>();
  /** Keyed by id; `keyHashes` finds one by its hash. */
  readonly adminKeys = new MemoryTable<AdminKey & { readonly keyHash: string }>();
  readonly webhookDeliveries = new MemoryTable<MemoryWebhookRow>();
  readonly disabledWebhookEndpoints = new MemoryTable<{ url: string; reason: string; disabledAt: Date }>();
  readonly webhookEndpoints = new MemoryTable<MemoryWebhookEndpointRow>();
  /** Committed mail, as the dispatcher sees it. */
  readonly outbox: MemoryOutboxQueue;
  /** What the database's now() would say: creation times and token consumption. */
  readonly clock: Clock;
  #transactions: Promise<unknown> = Promise.resolve();

  constructor(options: { clock?: Clock; messageIdDomain?: string } = {}) {
    this.clock = options.clock ?? systemClock;
    this.outbox = new MemoryOutboxQueue({
      clock: this.clock,
      ...(options.messageIdDomain === undefined ? {} : { messageIdDomain: options.messageIdDomain }),
    });
  }

  /** Every emailed entry of the outbox, oldest first. */
  get emails(): readonly OutboxRecord[] {
    return this.outbox.records;
  }

  /**
   * Runs `work` once every transaction started before it has finished: transactions never interleave, so
   * one's rollback cannot undo another's writes.
   */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#transactions.then(work);
    this.#transactions = run.catch(() => {});
    return run;
  }
}
