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
import type { SecretBox } from '../../security/secret-box.ts';
import { auditRowOf } from './audit-trail.ts';
import type { Db } from './database.ts';
import { asc, eq, sql } from './drizzle.ts';
import { translatePostgresOutages } from './outages.ts';
import { auditEvents, disabledWebhookEndpoints, webhookDeliveries, webhookEndpoints } from './schema.ts';

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function endpointOf(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt,
    previousSecretExpiresAt: row.previousSecretExpiresAt,
    createdAt: row.createdAt,
  };
}

/**
 * The managed webhook endpoints in PostgreSQL. Secrets are sealed with `box` (SECRET_KEY, so a database dump
 * alone signs nothing); each change and its audit row share one transaction.
 */
export class PostgresWebhookEndpointStore implements WebhookEndpointStore {
  readonly #db: Db;
  readonly #box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }

  async listWebhookEndpoints(): Promise<WebhookEndpoint[]> {
    const rows = await this.#db
      .select()
      .from(webhookEndpoints)
      .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
    return rows.map(endpointOf);
  }

  async findWebhookEndpoint(id: string): Promise<WebhookEndpoint | null> {
    const [row] = await this.#db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    return row === undefined ? null : endpointOf(row);
  }

  async insertWebhookEndpoint(
    input: NewWebhookEndpoint,
    audit: (endpointId: string) => AuditRecord,
  ): Promise<WebhookEndpoint> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx
        .insert(webhookEndpoints)
        .values({
          url: input.url,
          description: input.description,
          eventTypes: [...input.eventTypes],
          sealedSecret: this.#box.seal(input.secret),
        })
        .returning();
      if (row === undefined) throw new Error('inserting a webhook endpoint returned no row');
      await tx.insert(auditEvents).values(auditRowOf(audit(row.id)));
      return endpointOf(row);
    });
  }

  async updateWebhookEndpoint(
    id: string,
    changes: WebhookEndpointChanges,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null> {
    return this.#changeEndpoint(id, audit, {
      ...(changes.url === undefined ? {} : { url: changes.url }),
      ...(changes.description === undefined ? {} : { description: changes.description }),
      ...(changes.eventTypes === undefined ? {} : { eventTypes: [...changes.eventTypes] }),
    });
  }

  async deleteWebhookEndpoint(id: string, audit: AuditRecord): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const deleted = await tx
        .delete(webhookEndpoints)
        .where(eq(webhookEndpoints.id, id))
        .returning({ id: webhookEndpoints.id });
      if (deleted.length === 0) return false;
      await tx.execute(abandonWaitingDeliveries(id, 'endpoint deleted'));
      await tx.insert(auditEvents).values(auditRowOf(audit));
      return true;
    });
  }

  async disableManagedWebhookEndpoint(
    id: string,
    reason: WebhookEndpointDisabledReason,
    now: Date,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null> {
    return this.#db.transaction(async (tx) => {
      // A disabled endpoint keeps its first reason and time: `gone` stays what the receiver said.
      const [row] = await tx
        .update(webhookEndpoints)
        .set({
          disabledReason: sql`coalesce(${webhookEndpoints.disabledReason}, ${reason})`,
          disabledAt: sql`coalesce(${webhookEndpoints.disabledAt}, ${now.toISOString()}::timestamptz)`,
        })
        .where(eq(webhookEndpoints.id, id))
        .returning();
      if (row === undefined) return null;
      await tx.execute(abandonWaitingDeliveries(id, `endpoint disabled: ${reason}`));
      await tx.insert(auditEvents).values(auditRowOf(audit));
      return endpointOf(row);
    });
  }

  async enableManagedWebhookEndpoint(id: string, audit: AuditRecord): Promise<WebhookEndpoint | null> {
    return this.#changeEndpoint(id, audit, { disabledReason: null, disabledAt: null });
  }

  async rotateWebhookEndpointSecret(
    id: string,
    secret: string,
    previousExpiresAt: Date,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null> {
    return this.#changeEndpoint(id, audit, {
      sealedPreviousSecret: sql`${webhookEndpoints.sealedSecret}`,
      previousSecretExpiresAt: previousExpiresAt,
      sealedSecret: this.#box.seal(secret),
    });
  }

  async findWebhookSigningSecrets(id: string, now: Date): Promise<string[] | null> {
    const [row] = await this.#db
      .select({
        sealedSecret: webhookEndpoints.sealedSecret,
        sealedPreviousSecret: webhookEndpoints.sealedPreviousSecret,
        previousSecretExpiresAt: webhookEndpoints.previousSecretExpiresAt,
      })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, id));
    if (row === undefined) return null;
    const sealed = [row.sealedSecret];
    if (
      row.sealedPreviousSecret !== null &&
      row.previousSecretExpiresAt !== null &&
      row.previousSecretExpiresAt > now
    )
      sealed.push(row.sealedPreviousSecret);
    // A secret no key of SECRET_KEY / SECRET_KEY_PREVIOUS opens signs nothing: the receiver would refuse it.
    const secrets = sealed.map((box) => this.#box.open(box)).filter((secret) => secret !== null);
    return secrets.length === 0 ? null : secrets;
  }

  async listDisabledEnvWebhookEndpoints(): Promise<DisabledEnvWebhookEndpoint[]> {
    return this.#db.select().from(disabledWebhookEndpoints);
  }

  async enableEnvWebhookEndpoint(url: string, audit: AuditRecord): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const deleted = await tx
        .delete(disabledWebhookEndpoints)
        .where(eq(disabledWebhookEndpoints.url, url))
        .returning({ url: disabledWebhookEndpoints.url });
      if (deleted.length === 0) return false;
      await tx.insert(auditEvents).values(auditRowOf(audit));
      return true;
    });
  }

  async retryWebhookDelivery(
    id: string,
    now: Date,
    envUrls: readonly string[],
    audit: AuditRecord,
  ): Promise<WebhookRetryOutcome> {
    return this.#db.transaction(async (tx) => {
      const [delivery] = await tx
        .select({
          status: webhookDeliveries.status,
          endpointId: webhookDeliveries.endpointId,
          endpointUrl: webhookDeliveries.endpointUrl,
        })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.id, id))
        .for('update');
      if (delivery === undefined) return 'not_found';
      if (delivery.status !== 'abandoned') return 'not_abandoned';
      if (delivery.endpointId === null) {
        const [disabled] = await tx
          .select({ url: disabledWebhookEndpoints.url })
          .from(disabledWebhookEndpoints)
          .where(eq(disabledWebhookEndpoints.url, delivery.endpointUrl));
        if (disabled !== undefined || !envUrls.includes(delivery.endpointUrl)) return 'endpoint_disabled';
      } else {
        const [endpoint] = await tx
          .select({ disabledAt: webhookEndpoints.disabledAt })
          .from(webhookEndpoints)
          .where(eq(webhookEndpoints.id, delivery.endpointId));
        if (endpoint === undefined || endpoint.disabledAt !== null) return 'endpoint_disabled';
      }
      await tx
        .update(webhookDeliveries)
        .set({ status: 'pending', nextAttemptAt: now, lockedUntil: null })
        .where(eq(webhookDeliveries.id, id));
      await tx.insert(auditEvents).values(auditRowOf(audit));
      return 'retried';
    });
  }

  async #changeEndpoint(
    id: string,
    audit: AuditRecord,
    changes: Partial<Record<keyof EndpointRow, unknown>>,
  ): Promise<WebhookEndpoint | null> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx
        .update(webhookEndpoints)
        .set(changes as Partial<typeof webhookEndpoints.$inferInsert>)
        .where(eq(webhookEndpoints.id, id))
        .returning();
      if (row === undefined) return null;
      await tx.insert(auditEvents).values(auditRowOf(audit));
      return endpointOf(row);
    });
  }
}
translatePostgresOutages(PostgresWebhookEndpointStore.prototype);

/** Abandons what still waits for a managed endpoint, with `reason` as its last error. */
function abandonWaitingDeliveries(endpointId: string, reason: string): ReturnType<typeof sql> {
  return sql`update ${webhookDeliveries} set status = 'abandoned', locked_until = null, last_error = ${reason}
    where endpoint_id = ${endpointId}::uuid and status in ('pending', 'processing')`;
}
