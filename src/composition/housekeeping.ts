import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { startHousekeeping } from '../flows/housekeeping.ts';
import type { WebhookTargets } from '../flows/webhooks.ts';
import { maintainSigningKeys, type SigningKeyContext } from '../flows/signing-keys.ts';
import type { Database } from '../storage/postgres/database.ts';
import { PostgresExpiredRecordsStore } from '../storage/postgres/housekeeping.ts';
import { PostgresRefreshFamilyStore } from '../storage/postgres/refresh-family-store.ts';
import { systemClock } from './system-clock.ts';

/** Deletes expired rows every CLEANUP_INTERVAL_SECONDS (0: never here); returns the function that stops it. */
export function startExpiredRecordsCleanup(options: {
  readonly config: Pick<Config, 'housekeeping' | 'sessions'>;
  readonly database: Database;
  readonly logger: Logger;
  /** Where the user.deleted of each account the pass removes goes. */
  readonly webhooks?: WebhookTargets;
  /** Set: the pass also rotates the JWT signing key every `rotationDays` and deletes keys out of the JWKS. */
  readonly signingKeys?: { readonly context: SigningKeyContext; readonly rotationDays: number };
}): () => Promise<void> {
  if (options.config.housekeeping.intervalSeconds === 0) return async () => {};
  const logger = options.logger.child({ component: 'housekeeping' });
  const signingKeys = options.signingKeys;
  const housekeeping = startHousekeeping({
    store: new PostgresExpiredRecordsStore(options.database.db, options.webhooks),
    clock: systemClock,
    intervalMilliseconds: options.config.housekeeping.intervalSeconds * 1000,
    accountDeletionGraceDays: options.config.housekeeping.accountDeletionGraceDays,
    refreshFamilies: {
      store: new PostgresRefreshFamilyStore(options.database.db),
      // A family unused for REFRESH_TOKEN_IDLE_DAYS has ended.
      idleLifetimeSeconds: options.config.sessions.refreshTokens.idleDays * 24 * 60 * 60,
    },
    auditRetentionDays: options.config.housekeeping.auditRetentionDays,
    onPassFinished: (deleted) => logger.info({ deleted }, 'expired records deleted'),
    ...(signingKeys !== undefined && {
      async maintainSigningKeys() {
        const outcome = await maintainSigningKeys(signingKeys.context, signingKeys.rotationDays);
        if (outcome.rotated || outcome.deleted > 0) logger.info(outcome, 'JWT signing keys maintained');
      },
    }),
    onPassFailed: (error) => logger.warn({ err: error }, 'clean-up failed; next pass retries'),
  });
  return () => housekeeping.stop();
}
