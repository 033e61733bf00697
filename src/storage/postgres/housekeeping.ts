import { sql } from './drizzle.ts';
import type { DeletedRecordCounts, ExpiredRecordCutoffs, ExpiredRecordsStore } from '../../flows/ports.ts';
import { cleanupBatchRows, deleteRowsInBatches } from './batched-delete.ts';
import { PostgresStore } from './database.ts';
import { translatePostgresOutages } from './outages.ts';

/** Every statement deletes a bounded batch by primary key, looping until done (batched-delete.ts). */
export class PostgresExpiredRecordsStore extends PostgresStore implements ExpiredRecordsStore {
  async deleteExpiredRecords(cutoffs: ExpiredRecordCutoffs): Promise<DeletedRecordCounts> {
    // First, so the tokens and sessions that go with them (on delete cascade) are not counted below.
    const accounts = await this.#deleteDeletedAccounts(cutoffs.accountsDeletedBefore.toISOString());
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
    return { tokens, sessions, emails, accounts, auditEvents };
  }

  /**
   * Accounts deleted before the cutoff go with their queued mail; tokens and sessions follow by cascade. In
   * batches like every other clean-up statement, but by hand: each batch also writes the audit event.
   */
  async #deleteDeletedAccounts(before: string): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.#deleteDeletedAccountsBatch(before);
      total += deleted;
      if (deleted < cleanupBatchRows) return total;
    }
  }

  async #deleteDeletedAccountsBatch(before: string): Promise<number> {
    const result = await this.db.execute(sql`
      with gone as (
        delete from users where id in (
          select id from users where deleted_at < ${before}
          limit ${cleanupBatchRows} for update skip locked)
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
}
translatePostgresOutages(PostgresExpiredRecordsStore.prototype);
