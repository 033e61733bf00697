import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { startHousekeeping } from '../flows/housekeeping.ts';
import type { Database } from '../storage/postgres/database.ts';
import { PostgresExpiredRecordsStore } from '../storage/postgres/housekeeping.ts';
import { systemClock } from './system-clock.ts';

/** Deletes expired rows every CLEANUP_INTERVAL_SECONDS (0: never here); returns the function that stops it. */
export function startExpiredRecordsCleanup(options: {
  readonly config: Config['housekeeping'];
  readonly database: Database;
  readonly logger: Logger;
}): () => Promise<void> {
  if (options.config.intervalSeconds === 0) return async () => {};
  const logger = options.logger.child({ component: 'housekeeping' });
  const housekeeping = startHousekeeping({
    store: new PostgresExpiredRecordsStore(options.database.db),
    clock: systemClock,
    intervalMilliseconds: options.config.intervalSeconds * 1000,
    accountDeletionGraceDays: options.config.accountDeletionGraceDays,
    auditRetentionDays: options.config.auditRetentionDays,
    onPassFinished: (deleted) => logger.info({ deleted }, 'expired records deleted'),
    onPassFailed: (error) => logger.warn({ err: error }, 'clean-up failed; next pass retries'),
  });
  return () => housekeeping.stop();
}
