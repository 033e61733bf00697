import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { DeletedRecordCounts, ExpiredRecordCutoffs, ExpiredRecordsStore } from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { translatePostgresOutages } from './outages.ts';

/** Rows per delete statement: short transactions, so a clean-up never holds many locks for long. */
const deleteBatchSize = 1000;

/**
 * Deletes in batches by primary key. Several processes may run this at once: SKIP LOCKED makes each batch
 * take rows no other clean-up is deleting, so none waits for another, and a row skipped in one pass goes in
 * the next.
 */
export class PostgresExpiredRecordsStore extends PostgresStore implements ExpiredRecordsStore {
  async deleteExpiredRecords(cutoffs: ExpiredRecordCutoffs): Promise<DeletedRecordCounts> {
    // First, so the tokens and sessions that go with them (on delete cascade) are not counted below.
    const accounts = await this.#deleteDeletedAccounts(cutoffs.accountsDeletedBefore.toISOString());
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
    return { tokens, sessions, emails, accounts, auditEvents };
  }

  /** Accounts deleted before the cutoff go with their queued mail; tokens and sessions follow by cascade. */
  async #deleteDeletedAccounts(before: string): Promise<number> {
    const result = await this.db.execute(sql`
      with gone as (
        delete from users where id in (
          select id from users where deleted_at < ${before}
          limit ${deleteBatchSize} for update skip locked)
        returning id, email
      ), unsent as (
        delete from email_outbox where status = 'queued' and recipient in (select email from gone)
      ), audited as (
        insert into audit_events (event, outcome, user_id, actor)
        select 'account_deleted', 'success', id, 'system' from gone
      )
      select count(*)::int as accounts from gone`);
    return Number((result.rows[0] as { accounts?: number } | undefined)?.accounts ?? 0);
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
