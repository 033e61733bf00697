import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../../flows/audit.ts';
import type { AuditEventQuery, AuditTrail, Page, StoredAuditEvent } from '../../flows/ports.ts';
import type { WebhookTargets } from '../../flows/webhooks.ts';
import { MemoryDatabaseStore, type Journal, type MemoryDatabase } from './database.ts';
import { queueMemoryWebhookDeliveries } from './webhook-deliveries.ts';
import { isAfterPosition, pageOf, positionOf } from './paging.ts';

/**
 * The audit trail in memory; inside a MemoryTransactor's transaction, a rollback removes its events too, and
 * the webhook deliveries they queued.
 */
export class MemoryAuditTrail extends MemoryDatabaseStore implements AuditTrail {
  readonly #webhooks: WebhookTargets | undefined;
  constructor(database: MemoryDatabase, journal?: Journal, webhooks?: WebhookTargets) {
    super(database, journal);
    this.#webhooks = webhooks;
  }

  async appendAuditEvent(record: AuditRecord): Promise<void> {
    const id = randomUUID();
    this.database.auditEvents.put(id, { ...record, id }, this.journal);
    if (queueMemoryWebhookDeliveries(this.database, this.journal, record, this.#webhooks) > 0)
      this.#webhooks?.onQueued?.();
  }

  async listAuditEvents(query: AuditEventQuery): Promise<Page<StoredAuditEvent>> {
    const matching = this.database.auditEvents
      .rows()
      .filter(
        (row) =>
          (query.userId === null || row.userId === query.userId) &&
          (query.event === null || row.event === query.event) &&
          (query.since === null || row.occurredAt >= query.since) &&
          (query.after === null || isAfterPosition(positionOf(row.occurredAt, row.id), query.after)),
      );
    return pageOf(matching, (row) => positionOf(row.occurredAt, row.id), query.limit);
  }
}
