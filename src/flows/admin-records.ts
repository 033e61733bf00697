import type { AdminContext } from './admin-context.ts';
import { decodeCursor, defaultPageLimit, encodeCursor, isWellFormedId } from './admin-paging.ts';
import { recordAuditEvent } from './audit.ts';
import { FlowError } from './errors.ts';
import type { OutboxListStatus, StoredAuditEvent } from './ports.ts';

/** One outbox entry as an operator sees it: the recipient's domain, never the address or the message. */
export interface OutboxView {
  readonly id: string;
  readonly recipientDomain: string;
  readonly template: string;
  readonly status: OutboxListStatus;
  readonly attempts: number;
  /** The last failure, with any address in it reduced to its domain. */
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
}

/** Mail not sent yet or given up on, oldest first, a page at a time. */
export async function listOutboxEmails(
  context: AdminContext,
  query: { readonly status?: OutboxListStatus; readonly cursor?: string; readonly limit?: number },
): Promise<{ readonly emails: readonly OutboxView[]; readonly nextCursor: string | null }> {
  const page = await context.outbox.listOutboxEmails({
    status: query.status ?? null,
    after: decodeCursor(query.cursor),
    limit: query.limit ?? defaultPageLimit,
  });
  await recordAuditEvent(
    context.account.audit,
    { event: 'admin_outbox_view', outcome: 'success', userId: null },
    context.account.clock.now(),
  );
  return {
    emails: page.rows.map((entry) => ({
      id: entry.id,
      recipientDomain: domainOf(entry.recipient),
      template: entry.template,
      status: entry.status,
      attempts: entry.attempts,
      lastError: entry.lastError === null ? null : hideAddresses(entry.lastError),
      createdAt: entry.createdAt,
      nextAttemptAt: entry.nextAttemptAt,
    })),
    nextCursor: encodeCursor(page.next),
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** SMTP errors quote the recipient (`550 <alice@example.com>: unknown user`): keep only the domain. */
export function hideAddresses(text: string): string {
  return text.replace(/[^\s<>"'(),;:@]+@(?=[^\s@])/g, '…@');
}

/** The audit trail, oldest first from `since`, filtered by account and event, a page at a time. */
export async function listAuditEvents(
  context: AdminContext,
  query: {
    readonly userId?: string;
    readonly event?: string;
    readonly since?: Date;
    readonly cursor?: string;
    readonly limit?: number;
  },
): Promise<{ readonly events: readonly StoredAuditEvent[]; readonly nextCursor: string | null }> {
  if (query.userId !== undefined && !isWellFormedId(query.userId)) throw new FlowError('malformed_id');
  const page = await context.account.audit.listAuditEvents({
    userId: query.userId ?? null,
    event: query.event ?? null,
    since: query.since ?? null,
    after: decodeCursor(query.cursor),
    limit: query.limit ?? defaultPageLimit,
  });
  await recordAuditEvent(
    context.account.audit,
    { event: 'admin_audit_view', outcome: 'success', userId: query.userId ?? null },
    context.account.clock.now(),
  );
  return { events: page.rows, nextCursor: encodeCursor(page.next) };
}
