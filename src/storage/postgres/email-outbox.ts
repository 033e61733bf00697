import { and, eq, inArray, sql } from './drizzle.ts';
import { randomUUID } from 'node:crypto';
import type { EmailMessage } from '../../flows/model.ts';
import type { EmailOutbox, OutboxEntry, OutboxQueue } from '../../flows/ports.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import type { Db } from './database.ts';
import { emailOutbox } from './schema.ts';
import { translatePostgresOutage, translatePostgresOutages } from './outages.ts';

/** Writes emails into the outbox table inside the caller's transaction. */
export class PostgresEmailOutbox implements EmailOutbox {
  readonly #db: Db;
  readonly #box: SecretBox;
  readonly #messageIdDomain: string;
  readonly #onEnqueued: () => void;

  constructor(db: Db, options: { box: SecretBox; messageIdDomain: string; onEnqueued?: () => void }) {
    this.#db = db;
    this.#box = options.box;
    this.#messageIdDomain = options.messageIdDomain;
    this.#onEnqueued = options.onEnqueued ?? (() => {});
  }

  async enqueueEmail(message: EmailMessage): Promise<void> {
    await this.#db.insert(emailOutbox).values({
      ...newOutboxRow(message, { box: this.#box, messageIdDomain: this.#messageIdDomain }),
      nextAttemptAt: dueNow,
    });
    this.#onEnqueued();
  }
}
translatePostgresOutages(PostgresEmailOutbox.prototype);

/** The columns of a new outbox entry that the writer provides; status, attempts and dates take their defaults. */
export function newOutboxRow(
  message: EmailMessage,
  options: { box: SecretBox; messageIdDomain: string },
): { id: string; messageId: string; recipient: string; template: string; payload: string } {
  const id = randomUUID();
  return {
    id,
    // Stable across retries, so a receiving server that got a message twice can tell.
    messageId: `<${id}@${options.messageIdDomain}>`,
    recipient: message.to,
    template: message.template,
    payload: options.box.seal(JSON.stringify(message)),
  };
}

/**
 * A new entry's first attempt: now, in whole milliseconds, as claims compare with a JavaScript Date: the woken
 * dispatcher's claim right after the commit must find the entry due, not later by microseconds a Date cannot
 * hold.
 */
export const dueNow = sql`date_trunc('milliseconds', now())`;

type LeasedRow = {
  id: string;
  message_id: string;
  payload: string | null;
  attempts: number;
  created_at: Date | string;
};

const unopenableError =
  'payload cannot be opened with SECRET_KEY or any key of SECRET_KEY_PREVIOUS (sealed under another key, or damaged)';

/** The dispatcher's view of the outbox: leases with FOR UPDATE SKIP LOCKED, so dispatchers never share a row. */
export class PostgresOutboxQueue implements OutboxQueue {
  readonly #db: Db;
  readonly #box: SecretBox;
  readonly #onUnopenable: ((id: string) => void) | undefined;

  /** `onUnopenable` is told of every entry abandoned because its payload cannot be opened. */
  constructor(db: Db, options: { box: SecretBox; onUnopenable?: (id: string) => void }) {
    this.#db = db;
    this.#box = options.box;
    this.#onUnopenable = options.onUnopenable;
  }

  /**
   * An entry sealed under a key the box does not hold (SECRET_KEY rotated without SECRET_KEY_PREVIOUS) or
   * damaged can never be sent: it is abandoned here, and the claim goes on until it has `limit` entries or
   * nothing more is due. A short batch tells the dispatcher the queue is drained; a batch shortened by such
   * entries would make it sleep a poll interval per batch while fresh mail waited behind a backlog of them.
   */
  async claimDueEmails(limit: number, now: Date, leaseSeconds: number): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = [];
    while (entries.length < limit) {
      const wanted = limit - entries.length;
      const rows = await this.#leaseDueRows(wanted, now, leaseSeconds);
      const unopenableIds: string[] = [];
      for (const row of rows) {
        const message = row.payload === null ? null : this.#openMessage(row.payload);
        if (message === null) {
          unopenableIds.push(row.id);
          continue;
        }
        entries.push({
          id: row.id,
          messageId: row.message_id,
          message,
          attempts: row.attempts,
          createdAt: new Date(row.created_at),
        });
      }
      if (unopenableIds.length > 0) await this.#abandonUnopenable(unopenableIds);
      if (rows.length < wanted || unopenableIds.length === 0) break;
    }
    return entries;
  }

  async #leaseDueRows(limit: number, now: Date, leaseSeconds: number): Promise<LeasedRow[]> {
    const leaseEnd = new Date(now.getTime() + leaseSeconds * 1000);
    const result = await this.#db.execute<LeasedRow>(sql`
      update email_outbox set status = 'processing', locked_until = ${leaseEnd.toISOString()}, attempts = attempts + 1
      where id in (
        select id from email_outbox
        where (status = 'queued' and next_attempt_at <= ${now.toISOString()})
           or (status = 'processing' and locked_until <= ${now.toISOString()})
        order by next_attempt_at
        limit ${limit}
        for update skip locked)
      returning id, message_id, payload, attempts, created_at`);
    return result.rows;
  }

  async #abandonUnopenable(ids: string[]): Promise<void> {
    await this.#db
      .update(emailOutbox)
      .set({ status: 'abandoned', payload: null, lockedUntil: null, lastError: unopenableError })
      .where(and(inArray(emailOutbox.id, ids), eq(emailOutbox.status, 'processing')));
    for (const id of ids) this.#onUnopenable?.(id);
  }

  #openMessage(sealed: string): EmailMessage | null {
    const opened = this.#box.open(sealed);
    if (opened === null) return null;
    try {
      return JSON.parse(opened) as EmailMessage;
    } catch {
      return null;
    }
  }

  async markEmailSent(id: string, now: Date): Promise<void> {
    await this.#db
      .update(emailOutbox)
      .set({ status: 'sent', sentAt: now, payload: null, lockedUntil: null, lastError: null })
      .where(and(eq(emailOutbox.id, id), eq(emailOutbox.status, 'processing')));
  }

  async scheduleEmailRetry(id: string, nextAttemptAt: Date, error: string): Promise<void> {
    await this.#db
      .update(emailOutbox)
      .set({ status: 'queued', nextAttemptAt, lockedUntil: null, lastError: error.slice(0, 500) })
      .where(and(eq(emailOutbox.id, id), eq(emailOutbox.status, 'processing')));
  }

  async markEmailAbandoned(id: string, error: string): Promise<void> {
    await this.#db
      .update(emailOutbox)
      .set({ status: 'abandoned', payload: null, lockedUntil: null, lastError: error.slice(0, 500) })
      .where(eq(emailOutbox.id, id));
  }
}
translatePostgresOutages(PostgresOutboxQueue.prototype);

/** How much mail waits (queued or leased) and how long the oldest has waited, by the database's clock. */
export async function readOutboxStats(db: Db): Promise<{ depth: number; oldestAgeSeconds: number }> {
  // Both filters match the partial index email_outbox_due_idx, so this stays cheap however long the table is.
  const result = await db
    .execute<{ depth: string | number; oldest_age_seconds: string | number | null }>(
      sql`
    select count(*) as depth, extract(epoch from now() - min(created_at)) as oldest_age_seconds
    from email_outbox where status in ('queued', 'processing')`,
    )
    .catch((error: unknown) => {
      throw translatePostgresOutage(error);
    });
  const row = result.rows[0];
  return {
    depth: Number(row?.depth ?? 0),
    oldestAgeSeconds: Math.max(0, Number(row?.oldest_age_seconds ?? 0)),
  };
}
