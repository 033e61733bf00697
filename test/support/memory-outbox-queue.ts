import { randomUUID } from 'node:crypto';
import type { EmailMessage } from '../../src/flows/model.ts';
import type { OutboxEntry, OutboxQueue } from '../../src/flows/ports.ts';

export type OutboxStatus = 'queued' | 'processing' | 'sent' | 'abandoned';

/** One row of the in-memory outbox, with the history a test needs to check what the dispatcher did. */
export interface OutboxRecord {
  readonly id: string;
  readonly messageId: string;
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
 * The dispatcher's counterpart for tests, mirroring the PostgreSQL outbox: a claim leases due entries
 * (queued and due, or processing with a run-out lease) and counts an attempt; outcomes apply only to leased
 * entries, except abandonment, which always applies.
 */
export class MemoryOutboxQueue implements OutboxQueue {
  readonly records: OutboxRecord[] = [];
  #failingClaims = 0;

  enqueueEmail(message: EmailMessage, options: { now?: Date } = {}): OutboxRecord {
    const id = randomUUID();
    const createdAt = options.now ?? new Date();
    const record: OutboxRecord = {
      id,
      messageId: `<${id}@latchkey.test>`,
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

  /** The next `count` claims throw, as a database outage would. */
  failNextClaims(count: number): void {
    this.#failingClaims = count;
  }

  async claimDueEmails(limit: number, now: Date, leaseSeconds: number): Promise<OutboxEntry[]> {
    if (this.#failingClaims > 0) {
      this.#failingClaims -= 1;
      throw new Error('connection to the database lost');
    }
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
