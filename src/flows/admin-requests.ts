import type { AdminContext } from './admin-context.ts';
import { recordAuditEvent } from './audit.ts';

/** How an admin call ended other than in success: the error code of its answer and the answer's status. */
export interface AdminRequestFailure {
  readonly code: string;
  readonly statusCode: number;
}

/**
 * The outcome column of a failed admin call: `failure:<status>:<code>` (`failure:404:user_not_found`), so the
 * trail's existing shape holds the code and status without a column of its own, and a reader who filters on
 * `failure:` finds every failed call at once.
 */
export function describeAdminRequestFailure(failure: AdminRequestFailure): string {
  return `failure:${failure.statusCode}:${failure.code}`;
}

/**
 * Records an admin call that an accepted key made and that failed (400, 404, 409, 422, …): the successful
 * calls record their own event instead, so every accepted call leaves exactly one row. `userId` is the
 * account the call named, when it named one by a well-formed id.
 */
export async function recordAdminRequestFailure(
  context: AdminContext,
  failure: AdminRequestFailure,
  userId: string | null,
): Promise<void> {
  await recordAuditEvent(
    context.account.audit,
    { event: 'admin_request', outcome: describeAdminRequestFailure(failure), userId },
    context.account.clock.now(),
  );
}

/**
 * Records a refused admin key (401 without one, 403 for anything but a live one). The presented token is
 * never part of the row: only that a refusal happened, from where. The caller spends the client's `ip.admin`
 * budget before this runs, so a stranger adds at most that budget's rows per window.
 */
export async function recordAdminKeyRefusal(
  context: AdminContext,
  failure: AdminRequestFailure,
): Promise<void> {
  await recordAuditEvent(
    context.account.audit,
    { event: 'admin_key_refused', outcome: describeAdminRequestFailure(failure), userId: null },
    context.account.clock.now(),
  );
}
