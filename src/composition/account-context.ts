import type { Config } from '../config.ts';
import type { AttemptBudgets } from '../flows/attempt-budgets.ts';
import type { AccountContext, LinkBuilder } from '../flows/context.ts';
import type { CommonPasswordList } from '../security/common-passwords.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { deriveRefreshTokenKey } from '../security/tokens.ts';
import type { Database } from '../storage/postgres/database.ts';
import { PostgresRefreshFamilyStore } from '../storage/postgres/refresh-family-store.ts';
import { PostgresAuditTrail } from '../storage/postgres/audit-trail.ts';
import { PostgresSessionStore } from '../storage/postgres/session-store.ts';
import { PostgresTokenStore } from '../storage/postgres/token-store.ts';
import { PostgresTransactor } from '../storage/postgres/transactor.ts';
import { PostgresUserStore } from '../storage/postgres/user-store.ts';
import type { RedisClient } from '../storage/redis/client.ts';
import { RedisSessionStore } from '../storage/redis/session-store.ts';
import type { WebhookTargets } from '../flows/webhooks.ts';
import type { OutboxEvents } from './outbox-events.ts';
import { systemClock } from './system-clock.ts';

export interface AccountContextOptions {
  readonly config: Pick<Config, 'http' | 'sessions' | 'passwords' | 'email' | 'housekeeping'>;
  readonly database: Database;
  /** Sessions live in Redis when it is configured, else in the database. */
  readonly redis: RedisClient | undefined;
  readonly outboxSecretBox: SecretBox;
  /** Told of every commit that queued mail. */
  readonly outboxEvents: OutboxEvents;
  readonly commonPasswords: CommonPasswordList;
  readonly budgets: AttemptBudgets;
  /** SECRET_KEY or the development secret: refresh rotations derive their successor pairs under a key of it. */
  readonly secretKey: string;
  /** Where the audit trail's events are sent as webhooks; unset: nowhere. */
  readonly webhooks?: WebhookTargets;
}

const daySeconds = 24 * 60 * 60;

/** What the account flows run on: the stores, the outbox behind the transactor, links, policy and budgets. */
export function createAccountContext(options: AccountContextOptions): AccountContext {
  const { config, database, redis, outboxEvents } = options;
  return {
    transactor: new PostgresTransactor(database.db, {
      box: options.outboxSecretBox,
      messageIdDomain: extractMessageIdDomain(config.email.from),
      onEmailCommitted: () => outboxEvents.emit('queued'),
      ...(options.webhooks === undefined ? {} : { webhooks: options.webhooks }),
    }),
    users: new PostgresUserStore(database.db),
    tokens: new PostgresTokenStore(database.db),
    sessions: redis !== undefined ? new RedisSessionStore(redis) : new PostgresSessionStore(database.db),
    audit: new PostgresAuditTrail(database.db, options.webhooks),
    clock: systemClock,
    links: createLinkBuilder(config.http.appBaseUrl),
    sessionLifetimeSeconds: config.sessions.lifetimeMinutes * 60,
    refreshFamilies: new PostgresRefreshFamilyStore(database.db),
    refreshTokens: {
      absoluteLifetimeSeconds: config.sessions.refreshTokens.expireDays * daySeconds,
      idleLifetimeSeconds: config.sessions.refreshTokens.idleDays * daySeconds,
      reuseGraceSeconds: config.sessions.refreshTokens.reuseGraceSeconds,
      derivationKey: deriveRefreshTokenKey(options.secretKey),
    },
    accountDeletionGraceDays: config.housekeeping.accountDeletionGraceDays,
    passwordPolicy: {
      minimumLength: config.passwords.minimumLength,
      commonPasswords: options.commonPasswords,
    },
    budgets: options.budgets,
  };
}

/** Links always start at APP_BASE_URL, never at a request's Host header. */
function createLinkBuilder(base: URL): LinkBuilder {
  return {
    verifyEmailUrl: (token, returnTo) => linkWithToken(base, '/verify-email', token, returnTo),
    resetPasswordUrl: (token, returnTo) => linkWithToken(base, '/reset-password', token, returnTo),
    requestPasswordResetUrl: () => new URL('/reset-password', base).href,
    confirmEmailChangeUrl: (token) =>
      new URL(`/confirm-email-change?token=${encodeURIComponent(token)}`, base).href,
    cancelEmailChangeUrl: (token) =>
      new URL(`/cancel-email-change?token=${encodeURIComponent(token)}`, base).href,
    restoreAccountUrl: (token) => new URL(`/restore-account?token=${encodeURIComponent(token)}`, base).href,
  };
}

function linkWithToken(base: URL, path: string, token: string, returnTo: string | undefined): string {
  const query = new URLSearchParams({ token, ...(returnTo !== undefined && { return_to: returnTo }) });
  return new URL(`${path}?${query.toString()}`, base).href;
}

/** The right-hand side of every Message-ID: the domain of FROM_EMAIL. */
function extractMessageIdDomain(fromEmail: string): string {
  return /@([^>\s]+)>?\s*$/.exec(fromEmail)?.[1] ?? 'localhost';
}
