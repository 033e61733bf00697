import type { SQL } from 'drizzle-orm';
import { and, eq, inArray, isNull, sql } from './drizzle.ts';
import type { AuditRecord } from '../../flows/audit.ts';
import {
  selectWebhookEventType,
  type WebhookDelivery,
  type WebhookDeliveryBrowser,
  type WebhookDeliverySummary,
  type WebhookListStatus,
  type WebhookQueue,
  type WebhookTargets,
} from '../../flows/webhooks.ts';
import type { Db } from './database.ts';
import { disabledWebhookEndpoints, webhookDeliveries, webhookEndpoints } from './schema.ts';
import { translatePostgresOutage, translatePostgresOutages } from './outages.ts';
import type { Page, PagePosition } from '../../flows/ports.ts';
import { selectPage } from './paging.ts';

const lastErrorMaxLength = 500;

/**
 * The statement queueing the deliveries of `record` for the user that `userId` yields (none when it yields no
 * row): one per env endpoint not disabled, and one per enabled managed endpoint whose filter takes the type. Null
 * when receivers are not told of this event. A CTE of a larger statement or a statement of its own; either way
 * it commits or rolls back with the change.
 */
export function insertWebhookDeliveries(
  record: AuditRecord,
  userId: SQL,
  targets: WebhookTargets | undefined,
): SQL | null {
  return insertWebhookDeliveriesForOwners(record, sql`select ${userId} as user_id`, targets);
}

/**
 * As insertWebhookDeliveries, for every user of `owners` (a query yielding a `user_id` column): one event
 * that befell many accounts at once (the clean-up's removals), each delivered on its own.
 */
export function insertWebhookDeliveriesForOwners(
  record: AuditRecord,
  owners: SQL,
  targets: WebhookTargets | undefined,
): SQL | null {
  if (targets === undefined) return null;
  const type = selectWebhookEventType(record);
  if (type === null) return null;
  const managed = sql`select url, id from ${webhookEndpoints}
    where disabled_at is null and (cardinality(event_types) = 0 or ${type}::text = any(event_types))`;
  const endpoints =
    targets.urls.length === 0
      ? managed
      : sql`select url, null::uuid as id from (values ${sql.join(
          targets.urls.map((url) => sql`(${url}::text)`),
          sql`, `,
        )}) as env (url)
        where env.url not in (select url from ${disabledWebhookEndpoints})
        union all ${managed}`;
  // The body is built here so that a user id the statement only learns (a registration's) is in it.
  return sql`insert into ${webhookDeliveries} (webhook_id, endpoint_url, endpoint_id, event_type, payload,
      next_attempt_at)
    select 'msg_' || replace(gen_random_uuid()::text, '-', ''), endpoint.url, endpoint.id, ${type},
      json_build_object('type', ${type}::text, 'timestamp', ${record.occurredAt.toISOString()}::text,
        'data', json_build_object('user_id', owner.user_id, 'actor', ${record.actor}::text,
          'reason', ${record.outcome}::text))::text,
      date_trunc('milliseconds', now())
    from (${owners}) as owner, (${endpoints}) as endpoint (url, id)
    where owner.user_id is not null`;
}

interface LeasedRow extends Record<string, unknown> {
  id: string;
  webhook_id: string;
  endpoint_url: string;
  endpoint_id: string | null;
  event_type: string;
  payload: string;
  attempts: number;
  created_at: Date | string;
}

const listedStatusConditions = {
  pending: sql`status in ('pending', 'processing')`,
  delivered: sql`status = 'delivered'`,
  abandoned: sql`status = 'abandoned'`,
} as const;

interface SummaryRow extends Record<string, unknown> {
  id: string;
  webhook_id: string;
  endpoint_url: string;
  endpoint_id: string | null;
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: Date | string;
  next_attempt_at: Date | string;
  delivered_at: Date | string | null;
}

/**
 * The webhook dispatcher's view of the deliveries (leases with FOR UPDATE SKIP LOCKED), and the operators'
 * listing of them.
 */
export class PostgresWebhookQueue implements WebhookQueue, WebhookDeliveryBrowser {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async claimDueWebhookDeliveries(
    limit: number,
    now: Date,
    leaseSeconds: number,
  ): Promise<WebhookDelivery[]> {
    const leaseEnd = new Date(now.getTime() + leaseSeconds * 1000);
    const result = await this.#db.execute<LeasedRow>(sql`
      update webhook_deliveries set status = 'processing', locked_until = ${leaseEnd.toISOString()},
        attempts = attempts + 1
      where id in (
        select id from webhook_deliveries
        where ((status = 'pending' and next_attempt_at <= ${now.toISOString()})
           or (status = 'processing' and locked_until <= ${now.toISOString()}))
          and ((endpoint_id is null and endpoint_url not in (select url from disabled_webhook_endpoints))
            or endpoint_id in (select id from webhook_endpoints where disabled_at is null))
        order by next_attempt_at
        limit ${limit}
        for update skip locked)
      returning id, webhook_id, endpoint_url, endpoint_id, event_type, payload, attempts, created_at`);
    return result.rows.map((row) => ({
      id: row.id,
      webhookId: row.webhook_id,
      endpointUrl: row.endpoint_url,
      endpointId: row.endpoint_id,
      eventType: row.event_type,
      payload: row.payload,
      attempts: row.attempts,
      createdAt: new Date(row.created_at),
    }));
  }

  async markWebhookDelivered(id: string, now: Date): Promise<void> {
    await this.#db
      .update(webhookDeliveries)
      .set({ status: 'delivered', deliveredAt: now, lockedUntil: null, lastError: null })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'processing')));
  }

  async scheduleWebhookRetry(id: string, nextAttemptAt: Date, error: string): Promise<void> {
    await this.#db
      .update(webhookDeliveries)
      .set({
        status: 'pending',
        nextAttemptAt,
        lockedUntil: null,
        lastError: error.slice(0, lastErrorMaxLength),
      })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'processing')));
  }

  async markWebhookAbandoned(id: string, error: string): Promise<void> {
    await this.#db
      .update(webhookDeliveries)
      .set({ status: 'abandoned', lockedUntil: null, lastError: error.slice(0, lastErrorMaxLength) })
      .where(eq(webhookDeliveries.id, id));
  }

  async disableWebhookEndpoint(
    url: string,
    reason: string,
    now: Date,
    endpointId: string | null = null,
  ): Promise<void> {
    if (endpointId !== null) {
      await this.#db.execute(sql`
        with disabled as (
          update ${webhookEndpoints} set disabled_reason = 'gone', disabled_at = ${now.toISOString()}::timestamptz
          where id = ${endpointId}::uuid and disabled_at is null
        )
        update ${webhookDeliveries} set status = 'abandoned', locked_until = null,
          last_error = ${`endpoint disabled: ${reason}`}
        where endpoint_id = ${endpointId}::uuid and status in ('pending', 'processing')`);
      return;
    }
    await this.#db.transaction(async (tx) => {
      await tx
        .insert(disabledWebhookEndpoints)
        .values({ url, reason, disabledAt: now })
        .onConflictDoNothing();
      await tx
        .update(webhookDeliveries)
        .set({ status: 'abandoned', lockedUntil: null, lastError: `endpoint disabled: ${reason}` })
        .where(
          and(
            eq(webhookDeliveries.endpointUrl, url),
            isNull(webhookDeliveries.endpointId),
            inArray(webhookDeliveries.status, ['pending', 'processing']),
          ),
        );
    });
  }

  async listWebhookDeliveries(query: {
    readonly status: WebhookListStatus | null;
    readonly after: PagePosition | null;
    readonly limit: number;
  }): Promise<Page<WebhookDeliverySummary>> {
    return selectPage<SummaryRow, WebhookDeliverySummary>(
      this.#db,
      {
        // Never the payload: receivers get it, operators need the outcome.
        columns: sql`id, webhook_id, endpoint_url, endpoint_id, event_type, status, attempts, last_error, created_at,
          next_attempt_at, delivered_at`,
        from: sql`${webhookDeliveries}`,
        time: sql`created_at`,
        conditions: query.status === null ? [] : [listedStatusConditions[query.status]],
        after: query.after,
        limit: query.limit,
      },
      (row) => ({
        id: row.id,
        webhookId: row.webhook_id,
        endpointUrl: row.endpoint_url,
        endpointId: row.endpoint_id,
        eventType: row.event_type,
        status: row.status === 'processing' ? 'pending' : (row.status as WebhookListStatus),
        attempts: row.attempts,
        lastError: row.last_error,
        createdAt: new Date(row.created_at),
        nextAttemptAt: new Date(row.next_attempt_at),
        deliveredAt: row.delivered_at === null ? null : new Date(row.delivered_at),
      }),
    );
  }

  async findOldestPendingWebhookAt(): Promise<Date | null> {
    const result = await this.#db
      .execute<{ oldest: Date | string | null }>(
        sql`select min(created_at) as oldest from webhook_deliveries where status in ('pending', 'processing')`,
      )
      .catch((error: unknown) => {
        throw translatePostgresOutage(error);
      });
    const oldest = result.rows[0]?.oldest ?? null;
    return oldest === null ? null : new Date(oldest);
  }
}
translatePostgresOutages(PostgresWebhookQueue.prototype);
