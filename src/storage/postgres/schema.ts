import type { Locale } from '../../security/locale.ts';
import { boolean, index, integer, pgTable, sql, text, timestamp, uniqueIndex, uuid } from './drizzle.ts';

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    emailKey: text('email_key').notNull(),
    passwordHash: text('password_hash'),
    isActive: boolean('is_active').notNull().default(true),
    isVerified: boolean('is_verified').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set when the owner deleted the account; housekeeping removes the row after the grace period. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /** The language of the account's pages and emails (`en`, `de`); null: DEFAULT_LOCALE. */
    locale: text('locale').$type<Locale>(),
  },
  (table) => [
    uniqueIndex('users_email_key_idx').on(table.emailKey),
    // The admin listing's order: pages by (created_at, id).
    index('users_created_at_id_idx').on(table.createdAt, table.id),
    index('users_deleted_at_idx')
      .on(table.deletedAt)
      .where(sql`deleted_at is not null`),
  ],
);

/** Emailed single-use tokens; `token_hash` is the SHA-256 (hex) of the token, never the token. */
export const userTokens = pgTable(
  'user_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    purpose: text('purpose', {
      enum: [
        'email_verification',
        'password_reset',
        'email_change_confirm',
        'email_change_cancel',
        'account_restore',
      ],
    }).notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The address an email change's token is about (the new one to confirm, the old one to restore). */
    email: text('email'),
  },
  (table) => [
    index('user_tokens_user_purpose_idx').on(table.userId, table.purpose),
    index('user_tokens_expires_at_idx').on(table.expiresAt),
  ],
);

/** Login sessions when Redis is not configured (embedded mode); keyed by the token's SHA-256. */
export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    isActive: boolean('is_active').notNull(),
    isVerified: boolean('is_verified').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    // Null in sessions created before these were kept: read as created_at, unknown, unknown.
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    ip: text('ip'),
    userAgent: text('user_agent'),
    // The refresh family that minted the session; null: none, or a row from before it was kept (the family
    // store, in this same database, answers then).
    refreshFamilyId: uuid('refresh_family_id'),
  },
  (table) => [
    index('sessions_user_id_idx').on(table.userId),
    index('sessions_expires_at_idx').on(table.expiresAt),
  ],
);

/**
 * Refresh families (one per login that asked for a refresh token): the current generation, the absolute
 * and idle lifetimes, the predecessor's grace window, and revocation.
 */
export const refreshFamilies = pgTable(
  'refresh_families',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    generation: integer('generation').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [
    index('refresh_families_user_id_idx').on(table.userId),
    index('refresh_families_expires_at_idx').on(table.expiresAt),
  ],
);

/** Every refresh token a family issued: its SHA-256 (hex), never the token, and the session it came with. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    familyId: uuid('family_id')
      .notNull()
      .references(() => refreshFamilies.id, { onDelete: 'cascade' }),
    generation: integer('generation').notNull(),
    sessionTokenHash: text('session_token_hash').notNull(),
  },
  (table) => [
    uniqueIndex('refresh_tokens_family_generation_idx').on(table.familyId, table.generation),
    index('refresh_tokens_session_token_hash_idx').on(table.sessionTokenHash),
  ],
);

/**
 * The email outbox: queued -> processing (leased) -> sent | abandoned; a failed attempt returns to queued.
 * `payload` is the message encrypted with a key derived from SECRET_KEY (it carries live links), and is
 * cleared once the message is sent or abandoned.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    messageId: text('message_id').notNull(),
    recipient: text('recipient').notNull(),
    template: text('template').notNull(),
    payload: text('payload'),
    status: text('status', { enum: ['queued', 'processing', 'sent', 'abandoned'] })
      .notNull()
      .default('queued'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('email_outbox_message_id_idx').on(table.messageId),
    index('email_outbox_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`status in ('queued', 'processing')`),
  ],
);

/**
 * Which account each user of the FastAPI tutorial's `users` table became (`npm run admin -- import-tutorial`). A row
 * is written with its account, in one transaction, and outlives it: an imported account its owner deleted
 * keeps its row (user_id null), so importing again does not bring it back.
 */
export const importedTutorialUsers = pgTable('imported_tutorial_users', {
  tutorialId: integer('tutorial_id').primaryKey(),
  userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
  importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * JWT signing keys (Ed25519), shared by every instance. `sealed_private_key` is the PKCS #8 key sealed with
 * AES-256-GCM under a key derived from SECRET_KEY; `generation` is unique, so two instances adding the same
 * successor (or the first key) at once end up with one.
 */
export const jwtSigningKeys = pgTable(
  'jwt_signing_keys',
  {
    kid: text('kid').primaryKey(),
    generation: integer('generation').notNull(),
    publicJwk: text('public_jwk').notNull(),
    sealedPrivateKey: text('sealed_private_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    signingStartsAt: timestamp('signing_starts_at', { withTimezone: true }).notNull(),
    signingEndsAt: timestamp('signing_ends_at', { withTimezone: true }),
    publishedUntil: timestamp('published_until', { withTimezone: true }),
  },
  (table) => [uniqueIndex('jwt_signing_keys_generation_idx').on(table.generation)],
);

/** Operator keys for /admin/* and nothing else; `key_hash` is the SHA-256 (hex) of the key, never the key. */
export const adminKeys = pgTable(
  'admin_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('admin_keys_key_hash_idx').on(table.keyHash)],
);

/**
 * What happened to which account, by whom and from where. Never a password, token, cookie, link or full
 * address: `user_id` names the account. No foreign key, so the trail outlives a removed account.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    event: text('event').notNull(),
    outcome: text('outcome').notNull(),
    userId: uuid('user_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    actor: text('actor').notNull(),
    requestId: text('request_id'),
  },
  (table) => [
    index('audit_events_occurred_at_idx').on(table.occurredAt, table.id),
    index('audit_events_user_id_idx').on(table.userId, table.occurredAt),
  ],
);

/**
 * The webhook outbox: one row per endpoint and event, written in the transaction of the change (through the
 * audit trail), delivered by the webhook dispatcher. `webhook_id` is the Standard Webhooks `webhook-id`, the
 * same at every attempt; `payload` is the exact body sent, with no secret in it.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: text('webhook_id').notNull(),
    endpointUrl: text('endpoint_url').notNull(),
    eventType: text('event_type').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: ['pending', 'processing', 'delivered', 'abandoned'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    /** The endpoint of webhook_endpoints it goes to (signed with its secret); null: an env endpoint (WEBHOOK_URLS). */
    endpointId: uuid('endpoint_id'),
  },
  (table) => [
    uniqueIndex('webhook_deliveries_webhook_id_idx').on(table.webhookId),
    index('webhook_deliveries_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`status in ('pending', 'processing')`),
  ],
);

/**
 * Endpoints operators manage through the admin API and CLI, each with its own `whsec_` secret, sealed with
 * SECRET_KEY. After a rotation the previous secret stays valid until `previous_secret_expires_at`, and every
 * attempt until then carries a signature under each. `event_types` empty: every event.
 */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: uuid('id').primaryKey().defaultRandom(),
  url: text('url').notNull(),
  description: text('description').notNull().default(''),
  eventTypes: text('event_types')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  sealedSecret: text('sealed_secret').notNull(),
  sealedPreviousSecret: text('sealed_previous_secret'),
  previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
  /** `gone` after a 410 answer, `operator` when disabled through the API or CLI; null: enabled. */
  disabledReason: text('disabled_reason', { enum: ['gone', 'operator'] }),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Endpoints that answered `410 Gone`: nothing more is queued for them or sent to them. */
export const disabledWebhookEndpoints = pgTable('disabled_webhook_endpoints', {
  url: text('url').primaryKey(),
  disabledAt: timestamp('disabled_at', { withTimezone: true }).notNull().defaultNow(),
  reason: text('reason').notNull(),
});
