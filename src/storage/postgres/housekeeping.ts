import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { DeletedRecordCounts, ExpiredRecordCutoffs, ExpiredRecordsStore } from '../../flows/ports.ts';
import type { AuditRecord } from '../../flows/audit.ts';
import type { WebhookTargets } from '../../flows/webhooks.ts';
import { PostgresStore, type Db } from './database.ts';
import { translatePostgresOutages } from './outages.ts';
import { insertWebhookDeliveriesForOwners } from './webhook-deliveries.ts';

/** Rows per delete statement: short transactions, so a clean-up never holds many locks for long. */
const deleteBatchSize = 1000;

/**
 * Deletes in batches by primary key. Several processes may run this at once: SKIP LOCKED makes each batch
 * take rows no other clean-up is deleting, so none waits for another, and a row skipped in one pass goes in
 * the next.
 */
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
    const tokens = await this.#deleteInBatches(
      'user_tokens',
      'token_hash',
      sql`expires_at < ${tokensBefore} or consumed_at < ${tokensBefore}`,
    );
    const sessions = await this.#deleteInBatches(
      'sessions',
      'token_hash',
      sql`expires_at < ${sessionsBefore}`,
    );
    // Only finished mail: queued or leased rows are promises not yet kept. An abandoned row has no
    // sent_at; it was abandoned within the retry window after created_at.
    const emails = await this.#deleteInBatches(
      'email_outbox',
      'id',
      sql`status in ('sent', 'abandoned') and coalesce(sent_at, created_at) < ${emailsBefore}`,
    );
    const auditEvents = await this.#deleteInBatches(
      'audit_events',
      'id',
      sql`occurred_at < ${cutoffs.auditEventsBefore.toISOString()}`,
    );
    // Only finished deliveries: waiting ones are promises to a receiver not yet kept.
    const webhookDeliveries = await this.#deleteInBatches(
      'webhook_deliveries',
      'id',
      sql`status in ('delivered', 'abandoned') and created_at < ${cutoffs.finishedWebhookDeliveriesBefore.toISOString()}`,
    );
    return { tokens, sessions, emails, accounts, auditEvents, webhookDeliveries };
  }

  /**
   * Accounts deleted before the cutoff go with their queued mail; tokens and sessions follow by cascade. The
   * audit event and the user.deleted deliveries are written by the same statement: they exist if and only if
   * the account is gone.
   */
  async #deleteDeletedAccounts(before: Date, passAt: Date): Promise<number> {
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
          limit ${deleteBatchSize} for update skip locked)
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

  async #deleteInBatches(table: string, key: string, condition: SQL): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await this.db.execute(sql`
        delete from ${sql.identifier(table)} where ${sql.identifier(key)} in (
          select ${sql.identifier(key)} from ${sql.identifier(table)} where ${condition}
          limit ${deleteBatchSize} for update skip locked)`);
      const deleted = result.rowCount ?? 0;
      total += deleted;
      if (deleted < deleteBatchSize) return total;
    }
  }
}
translatePostgresOutages(PostgresExpiredRecordsStore.prototype);
