import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditTrail } from './ports.ts';

/**
 * Who caused an event: the account's owner, an admin key (by id), the admin CLI, the service itself, or
 * (`unknown`) a caller whose admin key was refused.
 */
export type AuditActor = 'self' | 'cli' | 'system' | 'unknown' | `admin:${string}`;

/** Everything the trail records; each name is one thing a person or an operator would ask about. */
export const auditEventNames = [
  'login',
  'login_throttled',
  'logout',
  'registration',
  'email_verification',
  'password_reset_requested',
  'password_reset',
  'session_ended',
  'refresh_token_reuse',
  'password_change',
  'email_change_requested',
  'email_change_confirmed',
  'email_change_reverted',
  'account_deletion_requested',
  'account_deletion_cancelled',
  'account_deleted',
  'admin_user_lookup',
  'admin_user_list',
  'admin_user_view',
  'admin_outbox_view',
  'admin_audit_view',
  'admin_webhooks_view',
  'admin_webhook_endpoint_created',
  'admin_webhook_endpoint_updated',
  'admin_webhook_endpoint_deleted',
  'admin_webhook_endpoint_enabled',
  'admin_webhook_endpoint_disabled',
  'admin_webhook_secret_rotated',
  'admin_webhook_delivery_retried',
  'admin_disable',
  'admin_enable',
  'admin_logout',
  'admin_sessions_view',
  'admin_session_end',
  'admin_resend_verification',
  'admin_password_reset',
  'admin_delete',
  'admin_restore',
  'admin_key_created',
  'admin_key_revoked',
  'admin_request',
  'admin_key_refused',
] as const;
export type AuditEventName = (typeof auditEventNames)[number];

/** `success`, `failure`, or a more precise refusal (`account_disabled`, `email_not_verified`, …). */
export type AuditOutcome = string;

/** Where a request came from: set once per request (or CLI run), read wherever an event is recorded. */
export interface AuditOrigin {
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  actor: AuditActor;
}

/** What a flow says happened. */
export interface AuditEvent {
  readonly event: AuditEventName;
  readonly outcome: AuditOutcome;
  readonly userId: string | null;
}

/** One row of the trail. */
export interface AuditRecord extends AuditEvent {
  readonly occurredAt: Date;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly actor: AuditActor;
  readonly requestId: string | null;
}

/** How much of a User-Agent header the trail keeps. */
export const auditUserAgentMaxLength = 256;

const origins = new AsyncLocalStorage<AuditOrigin>();
const systemOrigin: AuditOrigin = Object.freeze({
  ip: null,
  userAgent: null,
  requestId: null,
  actor: 'system' as const,
});

/**
 * Runs `work` with `origin` as the origin of every event recorded inside it. The HTTP layer calls it once per
 * request and the CLI once per command, so no flow or route signature carries the origin.
 */
export function runWithAuditOrigin<T>(origin: AuditOrigin, work: () => T): T {
  return origins.run(origin, work);
}

/** The admin key (or CLI) acting in the current request; events recorded after this name it as the actor. */
export function assignAuditActor(actor: AuditActor): void {
  const origin = origins.getStore();
  if (origin !== undefined) origin.actor = actor;
}

/** The origin of the current request or command; `system` outside of one (housekeeping, the dispatcher). */
export function currentAuditOrigin(): AuditOrigin {
  return origins.getStore() ?? systemOrigin;
}

/** The event with the current origin and time, as stored. */
export function completeAuditEvent(event: AuditEvent, occurredAt: Date): AuditRecord {
  const origin = currentAuditOrigin();
  return {
    ...event,
    occurredAt,
    ip: origin.ip,
    userAgent:
      origin.userAgent === null
        ? null
        : Array.from(origin.userAgent).slice(0, auditUserAgentMaxLength).join(''),
    actor: origin.actor,
    requestId: origin.requestId,
  };
}

/**
 * Records that something happened. Given a transaction's trail (`stores.audit`), the event exists if and only
 * if the change commits; given the context's trail, it is written at once, right after a change that has no
 * transaction (sessions in Redis). The one seam where a flow says "this happened": whatever else must follow
 * a committed change (a webhook's outbox row) hangs off it.
 */
export async function recordAuditEvent(
  trail: AuditTrail,
  event: AuditEvent,
  occurredAt: Date,
): Promise<void> {
  await trail.appendAuditEvent(completeAuditEvent(event, occurredAt));
}
