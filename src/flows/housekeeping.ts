import type { Clock, DeletedRecordCounts, ExpiredRecordsStore, RefreshFamilyStore } from './ports.ts';
import { defaultAccountDeletionGraceDays } from './token-emails.ts';

/** A used or expired link is kept a day, so "why did my link not work" can still be answered. */
export const expiredTokenRetentionSeconds = 24 * 60 * 60;
/** Sent and abandoned mail is kept a week (payload already cleared): delivery questions, abandoned mail. */
export const finishedEmailRetentionSeconds = 7 * 24 * 60 * 60;
/** Delivered and abandoned webhook deliveries are kept a week: what was sent when, what failed. */
export const finishedWebhookRetentionSeconds = 7 * 24 * 60 * 60;
/** How long the audit trail keeps an event, unless AUDIT_RETENTION_DAYS says otherwise. */
export const defaultAuditRetentionDays = 90;
const dayMilliseconds = 24 * 60 * 60 * 1000;

/** One clean-up pass: everything past its retention goes. */
export async function deleteExpiredRecords(
  store: ExpiredRecordsStore,
  clock: Clock,
  accountDeletionGraceDays = defaultAccountDeletionGraceDays,
  auditRetentionDays = defaultAuditRetentionDays,
): Promise<DeletedRecordCounts> {
  const now = clock.now().getTime();
  return store.deleteExpiredRecords({
    tokensBefore: new Date(now - expiredTokenRetentionSeconds * 1000),
    sessionsBefore: new Date(now),
    finishedEmailsBefore: new Date(now - finishedEmailRetentionSeconds * 1000),
    accountsDeletedBefore: new Date(now - accountDeletionGraceDays * dayMilliseconds),
    auditEventsBefore: new Date(now - auditRetentionDays * dayMilliseconds),
    finishedWebhookDeliveriesBefore: new Date(now - finishedWebhookRetentionSeconds * 1000),
    passAt: new Date(now),
  });
}

/**
 * Deletes the refresh families none of whose tokens can work any more (expired, idle or revoked), a day after
 * they ended, like used links. Returns how many.
 */
export async function deleteEndedRefreshFamilies(
  store: RefreshFamilyStore,
  clock: Clock,
  idleLifetimeSeconds: number,
): Promise<number> {
  const now = clock.now().getTime();
  const retentionMilliseconds = expiredTokenRetentionSeconds * 1000;
  return store.deleteEndedFamilies({
    expiredBefore: new Date(now - retentionMilliseconds),
    idleBefore: new Date(now - idleLifetimeSeconds * 1000 - retentionMilliseconds),
    revokedBefore: new Date(now - retentionMilliseconds),
  });
}

export interface HousekeepingOptions {
  readonly store: ExpiredRecordsStore;
  readonly clock: Clock;
  readonly intervalMilliseconds: number;
  /** ACCOUNT_DELETION_GRACE_DAYS: how long a deleted account waits before it is removed. */
  readonly accountDeletionGraceDays?: number;
  /** Given: each pass deletes ended refresh families too (deleteEndedRefreshFamilies). */
  readonly refreshFamilies?: { readonly store: RefreshFamilyStore; readonly idleLifetimeSeconds: number };
  /** AUDIT_RETENTION_DAYS: how long an audit event is kept. */
  readonly auditRetentionDays?: number;
  /**
   * Before the first pass. Several instances started together should not all clean at the same moment, so
   * the default is a random point within the first interval.
   */
  readonly firstRunAfterMilliseconds?: number;
  readonly onPassFinished?: (deleted: DeletedRecordCounts) => void;
  /** Also run at every pass, after the deletes: the JWT signing keys' rotation and removal (signing-keys.ts). */
  readonly maintainSigningKeys?: () => Promise<void>;
  /** A failed pass (the database is down) is reported and retried at the next interval, never thrown. */
  readonly onPassFailed?: (error: unknown) => void;
}

export interface Housekeeping {
  /** Stops scheduling; waits for a pass in progress. */
  stop(): Promise<void>;
}

/** Runs deleteExpiredRecords every interval, one pass at a time. */
export function startHousekeeping(options: HousekeepingOptions): Housekeeping {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();

  function schedule(delayMilliseconds: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      pass = runPass().finally(() => schedule(options.intervalMilliseconds));
    }, delayMilliseconds);
    // A pending clean-up never keeps the process alive.
    timer.unref();
  }

  async function runPass(): Promise<void> {
    try {
      const deleted = await deleteExpiredRecords(
        options.store,
        options.clock,
        options.accountDeletionGraceDays,
        options.auditRetentionDays,
      );
      const families = options.refreshFamilies;
      options.onPassFinished?.(
        families === undefined
          ? deleted
          : {
              ...deleted,
              refreshFamilies: await deleteEndedRefreshFamilies(
                families.store,
                options.clock,
                families.idleLifetimeSeconds,
              ),
            },
      );
      await options.maintainSigningKeys?.();
    } catch (error) {
      options.onPassFailed?.(error);
    }
  }

  schedule(options.firstRunAfterMilliseconds ?? Math.floor(Math.random() * options.intervalMilliseconds));
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
