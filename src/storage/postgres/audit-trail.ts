import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { AuditActor, AuditRecord } from '../../flows/audit.ts';
import type { AuditEventQuery, AuditTrail, Page, StoredAuditEvent } from '../../flows/ports.ts';
import type { WebhookTargets } from '../../flows/webhooks.ts';
import type { Db } from './database.ts';
import { PostgresStore } from './database.ts';
import { auditEvents } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';
import { selectPage } from './paging.ts';
import { insertWebhookDeliveries } from './webhook-deliveries.ts';

/**
 * The audit trail in PostgreSQL; built on a transaction, its events commit or roll back with it. With webhook
 * targets, an event receivers hear of also queues its deliveries (webhooks.ts maps events to types), beside it.
 */
export class PostgresAuditTrail extends PostgresStore implements AuditTrail {
  readonly #webhooks: WebhookTargets | undefined;
  constructor(db: Db, webhooks?: WebhookTargets) {
    super(db);
    this.#webhooks = webhooks;
  }

  async appendAuditEvent(record: AuditRecord): Promise<void> {
    await this.db.insert(auditEvents).values(auditRowOf(record));
    const deliveries = insertWebhookDeliveries(record, sql`${record.userId}::uuid`, this.#webhooks);
    if (deliveries === null) return;
    const result = await this.db.execute(deliveries);
    if ((result.rowCount ?? 0) > 0) this.#webhooks?.onQueued?.();
  }

  async listAuditEvents(query: AuditEventQuery): Promise<Page<StoredAuditEvent>> {
    const conditions: SQL[] = [];
    if (query.userId !== null) conditions.push(sql`user_id = ${query.userId}::uuid`);
    if (query.event !== null) conditions.push(sql`event = ${query.event}`);
    if (query.since !== null) conditions.push(sql`occurred_at >= ${query.since.toISOString()}::timestamptz`);
    return selectPage<AuditRow, StoredAuditEvent>(
      this.db,
      {
        columns: sql`id, occurred_at, event, outcome, user_id, ip, user_agent, actor, request_id`,
        from: sql`${auditEvents}`,
        time: sql`occurred_at`,
        conditions,
        after: query.after,
        limit: query.limit,
      },
      (row) => ({
        id: row.id,
        occurredAt: new Date(row.occurred_at),
        event: row.event as StoredAuditEvent['event'],
        outcome: row.outcome,
        userId: row.user_id,
        ip: row.ip,
        userAgent: row.user_agent,
        actor: row.actor as AuditActor,
        requestId: row.request_id,
      }),
    );
  }
}
translatePostgresOutages(PostgresAuditTrail.prototype);

/** The columns of one audit row, for inserts in other statements too (a registration's). */
export function auditRowOf(record: AuditRecord): typeof auditEvents.$inferInsert {
  return {
    occurredAt: record.occurredAt,
    event: record.event,
    outcome: record.outcome,
    userId: record.userId,
    ip: record.ip,
    userAgent: record.userAgent,
    actor: record.actor,
    requestId: record.requestId,
  };
}

interface AuditRow extends Record<string, unknown> {
  id: string;
  occurred_at: string | Date;
  event: string;
  outcome: string;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  actor: string;
  request_id: string | null;
}
