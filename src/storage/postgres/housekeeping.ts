import { sql } from './drizzle.ts';
import type { DeletedRecordCounts, ExpiredRecordCutoffs, ExpiredRecordsStore } from '../../flows/ports.ts';
import type { AuditRecord } from '../../flows/audit.ts';
import type { WebhookTargets } from '../../flows/webhooks.ts';
import { cleanupBatchRows, deleteRowsInBatches } from './batched-delete.ts';
import { PostgresStore, type Db } from './database.ts';
import { translatePostgresOutages } from './outages.ts';
import { insertWebhookDeliveriesForOwners } from './webhook-deliveries.ts';

/** Every statement deletes a bounded batch by primary key, looping until done (batched-delete.ts). */
export class PostgresExpiredRecordsStore extends PostgresStore implements ExpiredRecordsStore {
  readonly #webhooks: WebhookTargets | undefined;
  /** With webhook targets, every account removed queues its user.deleted, in the statement that removes it. */
  constructor(db: Db, webhooks?: WebhookTargets) {
    super(db);
    this.#webhooks = webhooks;
  }

  async deleteExpiredRecords(cutoffs: ExpiredRecordCutoffs): Promise<DeletedRecordCounts> {
    // First, so the tokens and sessions that go with them (on delete cascade) are not counted below.
    const accounts = await this.#deleteDeletedAccounts(cutoffs.accountsDeletedBefore, cutoffs.passAt);
    const tokensBefore = cutoffs.tokensBefore.toISOString();
    const sessionsBefore = cutoffs.sessionsBefore.toISOString();
    const emailsBefore = cutoffs.finishedEmailsBefore.toISOString();
    const tokens = await deleteRowsInBatches(this.db, {
      table: 'user_tokens',
      key: 'token_hash',
      condition: sql`expires_at < ${tokensBefore} or consumed_at < ${tokensBefore}`,
    });
    const sessions = await deleteRowsInBatches(this.db, {
      table: 'sessions',
      key: 'token_hash',
      condition: sql`expires_at < ${sessionsBefore}`,
    });
    // Only finished mail: queued or leased rows are promises not yet kept. An abandoned row has no
    // sent_at; it was abandoned within the retry window after created_at.
    const emails = await deleteRowsInBatches(this.db, {
      table: 'email_outbox',
      key: 'id',
      condition: sql`status in ('sent', 'abandoned') and coalesce(sent_at, created_at) < ${emailsBefore}`,
    });
    const auditEvents = await deleteRowsInBatches(this.db, {
      table: 'audit_events',
      key: 'id',
      condition: sql`occurred_at < ${cutoffs.auditEventsBefore.toISOString()}`,
    });
    // Only finished deliveries: waiting ones are promises to a receiver not yet kept.
    const webhookDeliveries = await deleteRowsInBatches(this.db, {
      table: 'webhook_deliveries',
      key: 'id',
      condition: sql`status in ('delivered', 'abandoned') and created_at < ${cutoffs.finishedWebhookDeliveriesBefore.toISOString()}`,
    });
    return { tokens, sessions, emails, accounts, auditEvents, webhookDeliveries };
  }

  /**
   * Accounts deleted before the cutoff go with their queued mail; tokens and sessions follow by cascade. The
   * audit event and the user.deleted deliveries are written by the same statement: they exist if and only if
   * the account is gone. In batches like every other clean-up statement, but by hand: each batch also writes
   * the audit event and the deliveries.
   */
  async #deleteDeletedAccounts(before: Date, passAt: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.#deleteDeletedAccountsBatch(before, passAt);
      total += deleted;
      if (deleted < cleanupBatchRows) return total;
    }
  }

  async #deleteDeletedAccountsBatch(before: Date, passAt: Date): Promise<number> {
    const removal: AuditRecord = {
      event: 'account_deleted',
      outcome: 'success',
      userId: null,
      occurredAt: passAt,
      ip: null,
      userAgent: null,
      actor: 'system',
      requestId: null,
    };
    const deliveries = insertWebhookDeliveriesForOwners(
      removal,
      sql`select id as user_id from gone`,
      this.#webhooks,
    );
    const result = await this.db.execute(sql`
      with gone as (
        delete from users where id in (
          select id from users where deleted_at < ${before.toISOString()}
          limit ${cleanupBatchRows} for update skip locked)
        returning id, email
      ), unsent as (
        delete from email_outbox where status = 'queued' and recipient in (select email from gone)
      ), audited as (
        insert into audit_events (occurred_at, event, outcome, user_id, actor)
        select ${passAt.toISOString()}, ${removal.event}, ${removal.outcome}, id, ${removal.actor} from gone
      )${deliveries === null ? sql`` : sql`, announced as (${deliveries} returning 1)`}
      select count(*)::int as accounts${
        deliveries === null ? sql`` : sql`, (select count(*)::int from announced) as announced`
      } from gone`);
    const row = result.rows[0] as { accounts?: number; announced?: number } | undefined;
    if ((row?.announced ?? 0) > 0) this.#webhooks?.onQueued?.();
    return Number(row?.accounts ?? 0);
  }
}
translatePostgresOutages(PostgresExpiredRecordsStore.prototype);
