import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../../flows/audit.ts';
import type {
  DisabledEnvWebhookEndpoint,
  NewWebhookEndpoint,
  WebhookEndpointChanges,
  WebhookEndpoint,
  WebhookEndpointDisabledReason,
  WebhookEndpointStore,
  WebhookRetryOutcome,
} from '../../flows/webhooks.ts';
import type { MemoryDatabase } from './database.ts';

/** One managed endpoint as a MemoryDatabase holds it (secrets in plaintext: memory is never persisted). */
export interface MemoryWebhookEndpointRow extends WebhookEndpoint {
  readonly secret: string;
  readonly previousSecret: string | null;
}

function endpointOf({
  secret: _secret,
  previousSecret: _previous,
  ...endpoint
}: MemoryWebhookEndpointRow): WebhookEndpoint {
  return endpoint;
}

/** The managed webhook endpoints of a MemoryDatabase; each change appends its audit row beside it. */
export class MemoryWebhookEndpointStore implements WebhookEndpointStore {
  readonly #database: MemoryDatabase;
  constructor(database: MemoryDatabase) {
    this.#database = database;
  }

  async listWebhookEndpoints(): Promise<WebhookEndpoint[]> {
    return this.#database.webhookEndpoints
      .rows()
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .map(endpointOf);
  }

  async findWebhookEndpoint(id: string): Promise<WebhookEndpoint | null> {
    const row = this.#database.webhookEndpoints.get(id);
    return row === undefined ? null : endpointOf(row);
  }

  async insertWebhookEndpoint(
    input: NewWebhookEndpoint,
    audit: (endpointId: string) => AuditRecord,
  ): Promise<WebhookEndpoint> {
    const row: MemoryWebhookEndpointRow = {
      id: randomUUID(),
      url: input.url,
      description: input.description,
      eventTypes: [...input.eventTypes],
      secret: input.secret,
      previousSecret: null,
      previousSecretExpiresAt: null,
      disabledReason: null,
      disabledAt: null,
      createdAt: this.#database.clock.now(),
    };
    this.#database.webhookEndpoints.put(row.id, row, undefined);
    this.#appendAudit(audit(row.id));
    return endpointOf(row);
  }

  async updateWebhookEndpoint(
    id: string,
    changes: WebhookEndpointChanges,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null> {
    return this.#change(id, audit, (row) => ({
      ...row,
      ...(changes.url === undefined ? {} : { url: changes.url }),
      ...(changes.description === undefined ? {} : { description: changes.description }),
      ...(changes.eventTypes === undefined ? {} : { eventTypes: [...changes.eventTypes] }),
    }));
  }

  async deleteWebhookEndpoint(id: string, audit: AuditRecord): Promise<boolean> {
    if (this.#database.webhookEndpoints.get(id) === undefined) return false;
    this.#database.webhookEndpoints.delete(id, undefined);
    this.#abandonWaiting(id, 'endpoint deleted');
    this.#appendAudit(audit);
    return true;
  }

  async disableManagedWebhookEndpoint(
    id: string,
    reason: WebhookEndpointDisabledReason,
    now: Date,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null> {
    const changed = await this.#change(id, audit, (row) =>
      row.disabledAt === null ? { ...row, disabledReason: reason, disabledAt: now } : row,
    );
    if (changed !== null) this.#abandonWaiting(id, `endpoint disabled: ${changed.disabledReason ?? reason}`);
    return changed;
  }

  async enableManagedWebhookEndpoint(id: string, audit: AuditRecord): Promise<WebhookEndpoint | null> {
    return this.#change(id, audit, (row) => ({ ...row, disabledReason: null, disabledAt: null }));
  }

  async rotateWebhookEndpointSecret(
    id: string,
    secret: string,
    previousExpiresAt: Date,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null> {
    return this.#change(id, audit, (row) => ({
      ...row,
      secret,
      previousSecret: row.secret,
      previousSecretExpiresAt: previousExpiresAt,
    }));
  }

  async findWebhookSigningSecrets(id: string, now: Date): Promise<string[] | null> {
    const row = this.#database.webhookEndpoints.get(id);
    if (row === undefined) return null;
    return row.previousSecret !== null &&
      row.previousSecretExpiresAt !== null &&
      row.previousSecretExpiresAt > now
      ? [row.secret, row.previousSecret]
      : [row.secret];
  }

  async listDisabledEnvWebhookEndpoints(): Promise<DisabledEnvWebhookEndpoint[]> {
    return this.#database.disabledWebhookEndpoints.rows();
  }

  async enableEnvWebhookEndpoint(url: string, audit: AuditRecord): Promise<boolean> {
    if (this.#database.disabledWebhookEndpoints.get(url) === undefined) return false;
    this.#database.disabledWebhookEndpoints.delete(url, undefined);
    this.#appendAudit(audit);
    return true;
  }

  async retryWebhookDelivery(
    id: string,
    now: Date,
    envUrls: readonly string[],
    audit: AuditRecord,
  ): Promise<WebhookRetryOutcome> {
    const delivery = this.#database.webhookDeliveries.get(id);
    if (delivery === undefined) return 'not_found';
    if (delivery.status !== 'abandoned') return 'not_abandoned';
    const endpointLive =
      delivery.endpointId === null
        ? envUrls.includes(delivery.endpointUrl) &&
          this.#database.disabledWebhookEndpoints.get(delivery.endpointUrl) === undefined
        : this.#database.webhookEndpoints.get(delivery.endpointId)?.disabledAt === null;
    if (!endpointLive) return 'endpoint_disabled';
    this.#database.webhookDeliveries.put(
      id,
      { ...delivery, status: 'pending', nextAttemptAt: now, lockedUntil: null },
      undefined,
    );
    this.#appendAudit(audit);
    return 'retried';
  }

  async #change(
    id: string,
    audit: AuditRecord,
    change: (row: MemoryWebhookEndpointRow) => MemoryWebhookEndpointRow,
  ): Promise<WebhookEndpoint | null> {
    const row = this.#database.webhookEndpoints.get(id);
    if (row === undefined) return null;
    const changed = change(row);
    this.#database.webhookEndpoints.put(id, changed, undefined);
    this.#appendAudit(audit);
    return endpointOf(changed);
  }

  #abandonWaiting(endpointId: string, reason: string): void {
    for (const row of this.#database.webhookDeliveries.rows()) {
      if (row.endpointId !== endpointId || (row.status !== 'pending' && row.status !== 'processing'))
        continue;
      this.#database.webhookDeliveries.put(
        row.id,
        { ...row, status: 'abandoned', lockedUntil: null, lastError: reason },
        undefined,
      );
    }
  }

  #appendAudit(record: AuditRecord): void {
    const id = randomUUID();
    this.#database.auditEvents.put(id, { ...record, id }, undefined);
  }
}
