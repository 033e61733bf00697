import type { Database } from '../storage/postgres/database.ts';

/** What every process composition has: its database, the two background loops, and a close. */
export interface BackgroundWork {
  readonly database: Database;
  /** Starts delivering the outbox from this process; returns the function that stops it. */
  startEmailDelivery(): () => Promise<void>;
  /** Starts delivering webhooks from this process (nothing without WEBHOOK_URLS); returns the function that stops it. */
  startWebhookDelivery(): () => Promise<void>;
  /** Starts the periodic clean-up of expired rows (if configured); returns the function that stops it. */
  startHousekeeping(): () => Promise<void>;
  /** Closes the transport and the connections; the loops above must be stopped first. */
  close(): Promise<void>;
}
