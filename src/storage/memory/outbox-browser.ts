import type {
  OutboxBrowser,
  OutboxListStatus,
  OutboxSummary,
  Page,
  PagePosition,
} from '../../flows/ports.ts';
import type { OutboxRecord } from './email-outbox.ts';
import { isAfterPosition, pageOf, positionOf } from './paging.ts';

/** The operators' view of an in-memory outbox. */
export class MemoryOutboxBrowser implements OutboxBrowser {
  readonly #records: readonly OutboxRecord[];

  constructor(records: readonly OutboxRecord[]) {
    this.#records = records;
  }

  async listOutboxEmails(query: {
    readonly status: OutboxListStatus | null;
    readonly after: PagePosition | null;
    readonly limit: number;
  }): Promise<Page<OutboxSummary>> {
    const summaries = this.#records.flatMap((record): OutboxSummary[] => {
      const status = listStatusOf(record);
      if (status === null || (query.status !== null && status !== query.status)) return [];
      if (query.after !== null && !isAfterPosition(positionOf(record.createdAt, record.id), query.after))
        return [];
      return [
        {
          id: record.id,
          recipient: record.message.to,
          template: record.message.template,
          status,
          attempts: record.attempts,
          lastError: record.lastError,
          createdAt: record.createdAt,
          nextAttemptAt: record.nextAttemptAt,
        },
      ];
    });
    return pageOf(summaries, (summary) => positionOf(summary.createdAt, summary.id), query.limit);
  }
}

function listStatusOf(record: OutboxRecord): OutboxListStatus | null {
  if (record.status === 'abandoned') return 'abandoned';
  if (record.status === 'sent') return null;
  return record.lastError === null ? 'queued' : 'retrying';
}
