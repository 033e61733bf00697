import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../../flows/audit.ts';
import {
  buildWebhookPayload,
  selectWebhookEventType,
  type WebhookDelivery,
  type WebhookDeliveryBrowser,
  type WebhookDeliveryStatus,
  type WebhookDeliverySummary,
  type WebhookListStatus,
  type WebhookQueue,
  type WebhookTargets,
} from '../../flows/webhooks.ts';
import type { Page, PagePosition } from '../../flows/ports.ts';
import type { Journal, MemoryDatabase } from './database.ts';
import { isAfterPosition, pageOf, positionOf } from './paging.ts';

/** One delivery as a MemoryDatabase holds it. */
export interface MemoryWebhookRow extends WebhookDelivery {
  readonly status: WebhookDeliveryStatus;
  readonly nextAttemptAt: Date;
  readonly lockedUntil: Date | null;
  readonly lastError: string | null;
  readonly deliveredAt?: Date;
}

/**
 * Queues the deliveries of `record` (one per env endpoint not disabled, one per enabled managed endpoint whose
 * filter takes the type), journaled with the transaction; how many.
 */
export function queueMemoryWebhookDeliveries(
  database: MemoryDatabase,
  journal: Journal | undefined,
  record: AuditRecord,
  targets: WebhookTargets | undefined,
): number {
  const type = selectWebhookEventType(record);
  if (targets === undefined || type === null || record.userId === null) return 0;
  const now = database.clock.now();
  const endpoints = targets.urls
    .filter((url) => database.disabledWebhookEndpoints.get(url) === undefined)
    .map((url) => ({ url, id: null as string | null }))
    .concat(
      database.webhookEndpoints
        .rows()
        .filter(
          (endpoint) =>
            endpoint.disabledAt === null &&
            (endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(type)),
        )
        .map((endpoint) => ({ url: endpoint.url, id: endpoint.id })),
    );
  for (const endpoint of endpoints) {
    const id = randomUUID();
    database.webhookDeliveries.put(
      id,
      {
        id,
        webhookId: `msg_${randomUUID().replaceAll('-', '')}`,
        endpointUrl: endpoint.url,
        endpointId: endpoint.id,
        eventType: type,
        payload: buildWebhookPayload(type, record, record.userId),
        attempts: 0,
        createdAt: now,
        status: 'pending',
        nextAttemptAt: now,
        lockedUntil: null,
        lastError: null,
      },
      journal,
    );
  }
  return endpoints.length;
}

/** The webhook deliveries of a MemoryDatabase, as a dispatcher and as an operator see them. */
export class MemoryWebhookQueue implements WebhookQueue, WebhookDeliveryBrowser {
  readonly #database: MemoryDatabase;
  constructor(database: MemoryDatabase) {
    this.#database = database;
  }

  async claimDueWebhookDeliveries(
    limit: number,
    now: Date,
    leaseSeconds: number,
  ): Promise<WebhookDelivery[]> {
    const table = this.#database.webhookDeliveries;
    const due = table
      .rows()
      .filter(
        (row) =>
          ((row.status === 'pending' && row.nextAttemptAt <= now) ||
            (row.status === 'processing' && row.lockedUntil !== null && row.lockedUntil <= now)) &&
          (row.endpointId === null
            ? this.#database.disabledWebhookEndpoints.get(row.endpointUrl) === undefined
            : this.#database.webhookEndpoints.get(row.endpointId)?.disabledAt === null),
      )
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
      .slice(0, limit);
    const lockedUntil = new Date(now.getTime() + leaseSeconds * 1000);
    return due.map((row) => {
      const leased = { ...row, status: 'processing' as const, lockedUntil, attempts: row.attempts + 1 };
      table.put(row.id, leased, undefined);
      return leased;
    });
  }

  async markWebhookDelivered(id: string, now: Date): Promise<void> {
    this.#update(id, true, { status: 'delivered', lockedUntil: null, lastError: null, deliveredAt: now });
  }

  async scheduleWebhookRetry(id: string, nextAttemptAt: Date, error: string): Promise<void> {
    this.#update(id, true, {
      status: 'pending',
      nextAttemptAt,
      lockedUntil: null,
      lastError: error.slice(0, 500),
    });
  }

  async markWebhookAbandoned(id: string, error: string): Promise<void> {
    this.#update(id, false, { status: 'abandoned', lockedUntil: null, lastError: error.slice(0, 500) });
  }

  async disableWebhookEndpoint(
    url: string,
    reason: string,
    now: Date,
    endpointId: string | null = null,
  ): Promise<void> {
    if (endpointId !== null) {
      const endpoint = this.#database.webhookEndpoints.get(endpointId);
      if (endpoint !== undefined && endpoint.disabledAt === null)
        this.#database.webhookEndpoints.put(
          endpointId,
          { ...endpoint, disabledReason: 'gone', disabledAt: now },
          undefined,
        );
    } else if (this.#database.disabledWebhookEndpoints.get(url) === undefined)
      this.#database.disabledWebhookEndpoints.put(url, { url, reason, disabledAt: now }, undefined);
    for (const row of this.#database.webhookDeliveries.rows()) {
      if (
        row.endpointId !== endpointId ||
        (endpointId === null && row.endpointUrl !== url) ||
        (row.status !== 'pending' && row.status !== 'processing')
      )
        continue;
      this.#update(row.id, false, {
        status: 'abandoned',
        lockedUntil: null,
        lastError: `endpoint disabled: ${reason}`,
      });
    }
  }

  async listWebhookDeliveries(query: {
    readonly status: WebhookListStatus | null;
    readonly after: PagePosition | null;
    readonly limit: number;
  }): Promise<Page<WebhookDeliverySummary>> {
    const summaries = this.#database.webhookDeliveries
      .rows()
      .map((row): WebhookDeliverySummary => ({
        id: row.id,
        webhookId: row.webhookId,
        endpointUrl: row.endpointUrl,
        endpointId: row.endpointId,
        eventType: row.eventType,
        status: row.status === 'processing' ? 'pending' : row.status,
        attempts: row.attempts,
        lastError: row.lastError,
        createdAt: row.createdAt,
        nextAttemptAt: row.nextAttemptAt,
        deliveredAt: row.deliveredAt ?? null,
      }))
      .filter(
        (row) =>
          (query.status === null || row.status === query.status) &&
          (query.after === null || isAfterPosition(positionOf(row.createdAt, row.id), query.after)),
      );
    return pageOf(summaries, (row) => positionOf(row.createdAt, row.id), query.limit);
  }

  async findOldestPendingWebhookAt(): Promise<Date | null> {
    const waiting = this.#database.webhookDeliveries
      .rows()
      .filter((row) => row.status === 'pending' || row.status === 'processing')
      .map((row) => row.createdAt.getTime());
    return waiting.length === 0 ? null : new Date(Math.min(...waiting));
  }

  #update(id: string, onlyLeased: boolean, changes: Partial<MemoryWebhookRow>): void {
    const row = this.#database.webhookDeliveries.get(id);
    if (row === undefined || (onlyLeased && row.status !== 'processing')) return;
    this.#database.webhookDeliveries.put(id, { ...row, ...changes }, undefined);
  }
}
