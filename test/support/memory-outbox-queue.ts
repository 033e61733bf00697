import type { OutboxEntry } from '../../src/flows/ports.ts';
import { MemoryOutboxQueue } from '../../src/storage/memory/email-outbox.ts';

export type { OutboxRecord, OutboxStatus } from '../../src/storage/memory/email-outbox.ts';

/** The memory outbox, with database outages on demand for the dispatcher's tests. */
export class FaultyMemoryOutboxQueue extends MemoryOutboxQueue {
  #failingClaims = 0;

  /** The next `count` claims throw, as a database outage would. */
  failNextClaims(count: number): void {
    this.#failingClaims = count;
  }

  override async claimDueEmails(limit: number, now: Date, leaseSeconds: number): Promise<OutboxEntry[]> {
    if (this.#failingClaims > 0) {
      this.#failingClaims -= 1;
      throw new Error('connection to the database lost');
    }
    return super.claimDueEmails(limit, now, leaseSeconds);
  }
}

// The dispatcher's tests build their queue under the name of the one it extends.
export { FaultyMemoryOutboxQueue as MemoryOutboxQueue };
