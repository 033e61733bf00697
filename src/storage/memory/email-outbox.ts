import { randomUUID } from 'node:crypto';
import type { EmailMessage } from '../../flows/model.ts';
import type { Clock, EmailOutbox, OutboxEntry, OutboxQueue } from '../../flows/ports.ts';
import { systemClock } from './clock.ts';

export type OutboxStatus = 'queued' | 'processing' | 'sent' | 'abandoned';

/** One entry of the in-memory outbox, with the history a test needs to check what the dispatcher did. */
export interface OutboxRecord {
  readonly id: string;
  readonly messageId: string;
  /** Kept as is: nothing in memory outlives the process, so there is no copy to seal it against. */
  readonly message: EmailMessage;
  readonly createdAt: Date;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lockedUntil: Date | null;
  lastError: string | null;
  sentAt: Date | null;
  /** The `now` of every claim that leased this entry. */
  readonly claimedAt: Date[];
  /** Every retry the dispatcher scheduled, in order. */
  readonly retries: { readonly nextAttemptAt: Date; readonly error: string }[];
}

/**
 * The outbox in this process's memory, mirroring the PostgreSQL one: a claim leases due entries (queued and
 * due, or processing with a run-out lease) and counts an attempt; outcomes apply only to leased entries,
 * except abandonment, which always applies. Queues built on one `records` array are dispatchers sharing
 * one outbox; a claim runs without a pause, so two of them never lease the same entry.
 */
export class MemoryOutboxQueue implements OutboxQueue {
  readonly records: OutboxRecord[];
  readonly #clock: Clock;
  readonly #messageIdDomain: string;

  constructor(options: { records?: OutboxRecord[]; clock?: Clock; messageIdDomain?: string } = {}) {
    this.records = options.records ?? [];
    this.#clock = options.clock ?? systemClock;
    this.#messageIdDomain = options.messageIdDomain ?? 'latchkey.test';
  }

  /** Another dispatcher's queue on the same outbox. */
  createSibling(): MemoryOutboxQueue {
    return new MemoryOutboxQueue({
      records: this.records,
      clock: this.#clock,
      messageIdDomain: this.#messageIdDomain,
    });
  }

  /**
   * Appends a committed email, due at once (at `now`, the clock's time unless given); its message id names
   * `messageIdDomain`, this queue's unless given.
   */
  enqueueEmail(message: EmailMessage, options: { now?: Date; messageIdDomain?: string } = {}): OutboxRecord {
    const id = randomUUID();
    const createdAt = options.now ?? this.#clock.now();
    const record: OutboxRecord = {
      id,
      // Stable across retries, as in PostgreSQL.
      messageId: `<${id}@${options.messageIdDomain ?? this.#messageIdDomain}>`,
      message,
      createdAt,
      status: 'queued',
      attempts: 0,
      nextAttemptAt: createdAt,
      lockedUntil: null,
      lastError: null,
      sentAt: null,
      claimedAt: [],
      retries: [],
    };
    this.records.push(record);
    return record;
  }

  findRecord(id: string): OutboxRecord {
    const record = this.records.find((candidate) => candidate.id === id);
    if (record === undefined) throw new Error(`no outbox record ${id}`);
    return record;
  }

  async claimDueEmails(limit: number, now: Date, leaseSeconds: number): Promise<OutboxEntry[]> {
    const due = this.records
      .filter(
        (record) =>
          (record.status === 'queued' && record.nextAttemptAt.getTime() <= now.getTime()) ||
          (record.status === 'processing' &&
            record.lockedUntil !== null &&
            record.lockedUntil.getTime() <= now.getTime()),
      )
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
      .slice(0, limit);
    return due.map((record) => {
      record.status = 'processing';
      record.lockedUntil = new Date(now.getTime() + leaseSeconds * 1000);
      record.attempts += 1;
      record.claimedAt.push(now);
      return {
        id: record.id,
        messageId: record.messageId,
        message: record.message,
        attempts: record.attempts,
        createdAt: record.createdAt,
      };
    });
  }

  async markEmailSent(id: string, now: Date): Promise<void> {
    const record = this.findRecord(id);
    if (record.status !== 'processing') return;
    record.status = 'sent';
    record.sentAt = now;
    record.lockedUntil = null;
    record.lastError = null;
  }

  async scheduleEmailRetry(id: string, nextAttemptAt: Date, error: string): Promise<void> {
    const record = this.findRecord(id);
    if (record.status !== 'processing') return;
    record.status = 'queued';
    record.nextAttemptAt = nextAttemptAt;
    record.lockedUntil = null;
    record.lastError = error.slice(0, 500);
    record.retries.push({ nextAttemptAt, error });
  }

  async markEmailAbandoned(id: string, error: string): Promise<void> {
    const record = this.findRecord(id);
    record.status = 'abandoned';
    record.lockedUntil = null;
    record.lastError = error.slice(0, 500);
  }
}

/** The writing side inside one transaction: emails wait here until it commits, and die with a rollback. */
export class MemoryEmailOutbox implements EmailOutbox {
  readonly pending: EmailMessage[] = [];

  async enqueueEmail(message: EmailMessage): Promise<void> {
    this.pending.push(message);
  }
}
