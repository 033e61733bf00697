import { sql } from './drizzle.ts';
import type {
  OutboxBrowser,
  OutboxListStatus,
  OutboxSummary,
  Page,
  PagePosition,
} from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { emailOutbox } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';
import { selectPage } from './paging.ts';

/** What each listed status means in the table: unsent without a failure, unsent after one, given up on. */
const statusConditions = {
  queued: sql`status in ('queued', 'processing') and last_error is null`,
  retrying: sql`status in ('queued', 'processing') and last_error is not null`,
  abandoned: sql`status = 'abandoned'`,
} as const;

export class PostgresOutboxBrowser extends PostgresStore implements OutboxBrowser {
  async listOutboxEmails(query: {
    readonly status: OutboxListStatus | null;
    readonly after: PagePosition | null;
    readonly limit: number;
  }): Promise<Page<OutboxSummary>> {
    return selectPage<OutboxRow, OutboxSummary>(
      this.db,
      {
        // Never the payload: it holds the message and its link.
        columns: sql`id, recipient, template, status, attempts, last_error, created_at, next_attempt_at`,
        from: sql`${emailOutbox}`,
        time: sql`created_at`,
        conditions: [
          query.status === null
            ? sql`status in ('queued', 'processing', 'abandoned')`
            : statusConditions[query.status],
        ],
        after: query.after,
        limit: query.limit,
      },
      (row) => ({
        id: row.id,
        recipient: row.recipient,
        template: row.template,
        status: row.status === 'abandoned' ? 'abandoned' : row.last_error === null ? 'queued' : 'retrying',
        attempts: row.attempts,
        lastError: row.last_error,
        createdAt: new Date(row.created_at),
        nextAttemptAt: new Date(row.next_attempt_at),
      }),
    );
  }
}
translatePostgresOutages(PostgresOutboxBrowser.prototype);

interface OutboxRow extends Record<string, unknown> {
  id: string;
  recipient: string;
  template: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string | Date;
  next_attempt_at: string | Date;
}
