import type { AuditEventName, AuditRecord } from './audit.ts';
import type { Page, PagePosition } from './ports.ts';

/** The Standard Webhooks event types Latchkey sends. */
export const webhookEventTypes = [
  'user.created',
  'user.verified',
  'user.login',
  'user.password_reset',
  'user.password_changed',
  'user.email_changed',
  'session.revoked',
  'user.disabled',
  'user.enabled',
  'user.deletion_scheduled',
  'user.deletion_cancelled',
  'user.deleted',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/**
 * Which audit events a receiver hears of, and as what: the one table between the trail and the webhooks.
 * Only successful changes are sent (a failed login is not news to another system); every event of a
 * listed name with the outcome `success` (or any outcome where `anyOutcome`) becomes one delivery per endpoint.
 */
export const webhookTypeByAuditEvent: Readonly<
  Partial<Record<AuditEventName, { readonly type: WebhookEventType; readonly anyOutcome?: boolean }>>
> = {
  registration: { type: 'user.created' },
  email_verification: { type: 'user.verified' },
  login: { type: 'user.login' },
  password_reset: { type: 'user.password_reset' },
  password_change: { type: 'user.password_changed' },
  email_change_confirmed: { type: 'user.email_changed' },
  email_change_reverted: { type: 'user.email_changed', anyOutcome: true },
  logout: { type: 'session.revoked' },
  // `success`: the current session; `others`: every other one.
  session_ended: { type: 'session.revoked', anyOutcome: true },
  admin_logout: { type: 'session.revoked' },
  admin_session_end: { type: 'session.revoked' },
  refresh_token_reuse: { type: 'session.revoked', anyOutcome: true },
  admin_disable: { type: 'user.disabled' },
  admin_enable: { type: 'user.enabled' },
  // The account stops working at once but can still be restored until the grace period ends: a receiver
  // should suspend it, not erase it. user.deleted comes when the clean-up removes it for good (actor system).
  account_deletion_requested: { type: 'user.deletion_scheduled' },
  admin_delete: { type: 'user.deletion_scheduled' },
  account_deletion_cancelled: { type: 'user.deletion_cancelled' },
  admin_restore: { type: 'user.deletion_cancelled' },
  account_deleted: { type: 'user.deleted' },
};

/** The Standard Webhooks type of an audit event, or null when receivers are not told of it. */
export function selectWebhookEventType(record: AuditRecord): WebhookEventType | null {
  const entry = webhookTypeByAuditEvent[record.event];
  if (entry === undefined) return null;
  if (entry.anyOutcome !== true && record.outcome !== 'success') return null;
  return entry.type;
}

/**
 * The body a receiver gets: `{type, timestamp, data}`. `data` holds the account id and who acted (`self`,
 * `admin:<key id>`, `cli`, `system`): never an address, a password, a token or a link.
 */
export function buildWebhookPayload(type: WebhookEventType, record: AuditRecord, userId: string): string {
  return JSON.stringify({
    type,
    timestamp: record.occurredAt.toISOString(),
    data: { user_id: userId, actor: record.actor, reason: record.outcome },
  });
}

/** Where events go: the endpoints, and who to tell once a commit queued deliveries. */
export interface WebhookTargets {
  readonly urls: readonly string[];
  /** Called after deliveries were queued (after the commit, for a transaction's trail); must not throw. */
  readonly onQueued?: () => void;
}

/** Delivery states: `pending` (waiting for an attempt), `processing` (leased), `delivered`, `abandoned`. */
export type WebhookDeliveryStatus = 'pending' | 'processing' | 'delivered' | 'abandoned';

/** One delivery as the dispatcher sees it. */
export interface WebhookDelivery {
  readonly id: string;
  /** The `webhook-id` header: the same at every attempt. */
  readonly webhookId: string;
  readonly endpointUrl: string;
  /** The managed endpoint (webhook_endpoints) it goes to, signed with that endpoint's secrets; null: WEBHOOK_URLS. */
  readonly endpointId: string | null;
  readonly eventType: string;
  readonly payload: string;
  /** Counting the claim that handed it out. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** The dispatcher's side of the webhook outbox; safe with several dispatchers (a claimed row is leased to one). */
export interface WebhookQueue {
  /** Leases up to `limit` due deliveries for `leaseSeconds`, none to a disabled endpoint. */
  claimDueWebhookDeliveries(limit: number, now: Date, leaseSeconds: number): Promise<WebhookDelivery[]>;
  markWebhookDelivered(id: string, now: Date): Promise<void>;
  scheduleWebhookRetry(id: string, nextAttemptAt: Date, error: string): Promise<void>;
  markWebhookAbandoned(id: string, error: string): Promise<void>;
  /**
   * Records the endpoint as gone: its undelivered rows are abandoned and nothing more is queued for it. A
   * managed endpoint (`endpointId`) is disabled with the reason `gone`; an env one (null) by its URL.
   */
  disableWebhookEndpoint(url: string, reason: string, now: Date, endpointId?: string | null): Promise<void>;
  /** The creation time of the oldest undelivered delivery, or null when none waits. */
  findOldestPendingWebhookAt(): Promise<Date | null>;
}

/** What an operator filters deliveries by: waiting (leased ones included), delivered, or given up on. */
export type WebhookListStatus = 'pending' | 'delivered' | 'abandoned';

/** One delivery as an operator may see it: never its body. */
export interface WebhookDeliverySummary {
  readonly id: string;
  readonly webhookId: string;
  readonly endpointUrl: string;
  readonly endpointId: string | null;
  readonly eventType: string;
  readonly status: WebhookListStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
  readonly deliveredAt: Date | null;
}

/** The operators' read side of the webhook deliveries. */
export interface WebhookDeliveryBrowser {
  /** Deliveries (of `status` only, when given) ordered by (created_at, id), after `after`. */
  listWebhookDeliveries(query: {
    readonly status: WebhookListStatus | null;
    readonly after: PagePosition | null;
    readonly limit: number;
  }): Promise<Page<WebhookDeliverySummary>>;
}

/** Why a managed endpoint receives nothing: it answered `410 Gone`, or an operator disabled it. */
export type WebhookEndpointDisabledReason = 'gone' | 'operator';

/** A managed endpoint as operators see it: never its secret (shown once, at creation and at rotation). */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  /** Empty: every event type. */
  readonly eventTypes: readonly string[];
  readonly disabledReason: WebhookEndpointDisabledReason | null;
  readonly disabledAt: Date | null;
  /** Until when the secret before the last rotation still signs (null: no rotation in the last 24 h). */
  readonly previousSecretExpiresAt: Date | null;
  readonly createdAt: Date;
}

/** An env endpoint (WEBHOOK_URLS) disabled after a 410, by URL. */
export interface DisabledEnvWebhookEndpoint {
  readonly url: string;
  readonly reason: string;
  readonly disabledAt: Date;
}

/** What retrying an abandoned delivery came to. */
export type WebhookRetryOutcome = 'retried' | 'not_found' | 'not_abandoned' | 'endpoint_disabled';

/** An endpoint as an operator creates it; the secret is given in plaintext and stored sealed. */
export interface NewWebhookEndpoint {
  readonly url: string;
  readonly description: string;
  /** Empty: every event type. */
  readonly eventTypes: readonly string[];
  readonly secret: string;
}

/** What an operator may change of an endpoint; an absent field stays as it is. */
export interface WebhookEndpointChanges {
  readonly url?: string;
  readonly description?: string;
  readonly eventTypes?: readonly string[];
}

/**
 * The managed endpoints. Every change records `audit` in its own transaction, so the trail holds the change if
 * and only if it happened; disabling or deleting an endpoint abandons its waiting deliveries in the same one.
 * Secrets are given and returned in plaintext; the store keeps them sealed.
 */
export interface WebhookEndpointStore {
  /** Oldest first. */
  listWebhookEndpoints(): Promise<WebhookEndpoint[]>;
  findWebhookEndpoint(id: string): Promise<WebhookEndpoint | null>;
  insertWebhookEndpoint(
    input: NewWebhookEndpoint,
    audit: (endpointId: string) => AuditRecord,
  ): Promise<WebhookEndpoint>;
  updateWebhookEndpoint(
    id: string,
    changes: WebhookEndpointChanges,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null>;
  /** False when there is no such endpoint. */
  deleteWebhookEndpoint(id: string, audit: AuditRecord): Promise<boolean>;
  /** Disables (an enabled endpoint; a disabled one keeps its reason) and abandons what waits for it. */
  disableManagedWebhookEndpoint(
    id: string,
    reason: WebhookEndpointDisabledReason,
    now: Date,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null>;
  enableManagedWebhookEndpoint(id: string, audit: AuditRecord): Promise<WebhookEndpoint | null>;
  /** The new secret signs from now on; the current one keeps signing until `previousExpiresAt`. */
  rotateWebhookEndpointSecret(
    id: string,
    secret: string,
    previousExpiresAt: Date,
    audit: AuditRecord,
  ): Promise<WebhookEndpoint | null>;
  /** The secrets an attempt at `now` is signed with (current first), or null when the endpoint is gone. */
  findWebhookSigningSecrets(id: string, now: Date): Promise<string[] | null>;
  listDisabledEnvWebhookEndpoints(): Promise<DisabledEnvWebhookEndpoint[]>;
  /** Forgets the 410 of an env endpoint; false when it was not disabled. */
  enableEnvWebhookEndpoint(url: string, audit: AuditRecord): Promise<boolean>;
  /**
   * Puts an abandoned delivery back in the queue, due now, unless its endpoint is disabled or gone (or, for an
   * env endpoint, no longer in `envUrls`).
   */
  retryWebhookDelivery(
    id: string,
    now: Date,
    envUrls: readonly string[],
    audit: AuditRecord,
  ): Promise<WebhookRetryOutcome>;
}
