import type { Locale } from '../security/locale.ts';
import type { AuditRecord } from './audit.ts';
import type { EmailMessage, RefreshFamily, Session, TokenPurpose, User } from './model.ts';

/** Accounts. Addresses are looked up by their key (see normalizeEmailAddress). */
export interface UserStore {
  /** Creates the user, or returns null when the address key is taken (never throws on a duplicate). */
  insertUser(input: {
    email: string;
    emailKey: string;
    passwordHash: string;
    locale?: Locale | null;
  }): Promise<User | null>;
  findUserByEmailKey(emailKey: string): Promise<User | null>;
  findUserById(userId: string): Promise<User | null>;
  markUserVerified(userId: string): Promise<void>;
  /** Sets a new hash; `markVerified` because a reset proved the mailbox. */
  setUserPasswordHash(
    userId: string,
    passwordHash: string | null,
    options?: { markVerified?: boolean },
  ): Promise<void>;
  /** Rehash on login: only replaces the hash if it is still `currentHash` (no lost update). */
  replaceUserPasswordHash(userId: string, currentHash: string, newHash: string): Promise<void>;
  /**
   * The user, locked until the transaction ends (SELECT ... FOR UPDATE): flows that change one account from
   * two links (an email change's confirm and cancel) take it first, so they run one after the other.
   */
  lockUserById(userId: string): Promise<User | null>;
  /** The owner deleted the account at `at`: it is answered as an unknown address from now on. */
  markUserDeleted(userId: string, at: Date): Promise<void>;
  /** Undoes markUserDeleted; false when the account is not deleted (restored already, or never deleted). */
  restoreUser(userId: string): Promise<boolean>;
  /** Moves the account to another address; false, and nothing changed, when that address key is taken. */
  changeUserEmail(userId: string, email: string, emailKey: string): Promise<boolean>;
  /** An operator disables (false) or enables (true) the account; false when there is no such account. */
  setUserActive(userId: string, isActive: boolean): Promise<boolean>;
  /** The language of the account's pages and emails; false when there is no such account. */
  setUserLocale(userId: string, locale: Locale): Promise<boolean>;
}

/** A token about to be stored: only its hash. */
export interface NewToken {
  readonly tokenHash: string;
  readonly purpose: TokenPurpose;
  readonly userId: string;
  readonly expiresAt: Date;
  /** The address the token is about, for the purposes that need one (an email change's). */
  readonly email?: string;
}

/** Whose a usable token is, and the address it carries (null when its purpose has none). */
export interface TokenOwner {
  readonly userId: string;
  readonly email: string | null;
}

/** Single-use tokens sent by email. Only the SHA-256 of a token is stored. */
export interface TokenStore {
  createToken(input: NewToken): Promise<void>;
  /** Unused, unexpired token of that purpose, or null. Does not consume it. */
  findValidToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<TokenOwner | null>;
  /**
   * Consumes the token in one atomic statement: of any number of concurrent calls for one token, exactly one
   * returns the user id; the others (and any later call) get null.
   */
  consumeToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<TokenOwner | null>;
  /** Every still-usable token of that purpose and user (carrying `options.email`, if given) stops working. */
  invalidateUserTokens(
    userId: string,
    purpose: TokenPurpose,
    now: Date,
    options?: { readonly email?: string },
  ): Promise<void>;
}

/** The outbox: emails written in the same transaction as the rows that promised them. */
export interface EmailOutbox {
  enqueueEmail(message: EmailMessage): Promise<void>;
}

/** The stores that take part in one database transaction. */
export interface TransactionStores {
  readonly users: UserStore;
  readonly tokens: TokenStore;
  readonly outbox: EmailOutbox;
  readonly audit: AuditTrail;
}

/** An emailed single-use token about to be issued (only its hash is stored) and the email carrying its link. */
export interface TokenEmail {
  readonly token: {
    readonly tokenHash: string;
    readonly purpose: TokenPurpose;
    readonly expiresAt: Date;
    readonly email?: string;
  };
  readonly email: EmailMessage;
}

/**
 * Runs `work` in one database transaction: either every write (and every queued email) lands, or none. The
 * two busiest writes, a token with its email and a new account with its first one, have one-statement forms:
 * all or nothing too, without a transaction's round trips.
 */
export interface Transactor {
  runInTransaction<T>(work: (stores: TransactionStores) => Promise<T>): Promise<T>;
  /**
   * Creates the user together with a token for it and the email carrying it. Returns null and writes nothing
   * when the address key is taken, as insertUser does.
   */
  insertUserWithTokenEmail(
    input: { email: string; emailKey: string; passwordHash: string; locale?: Locale | null },
    tokenEmail: TokenEmail,
    /** Recorded in the same statement, for the new user (its `userId` is filled in). */
    audit?: AuditRecord,
  ): Promise<User | null>;
  /**
   * Issues a token to an existing user and queues the email carrying it. With `replacePrevious`, the user's
   * other unused tokens of that purpose stop working in the same statement.
   */
  issueTokenWithEmail(
    userId: string,
    tokenEmail: TokenEmail,
    options: { readonly replacePrevious: boolean; readonly audit?: AuditRecord },
  ): Promise<void>;
}

/** Login sessions (PostgreSQL or Redis). Keyed by the SHA-256 of the session token. */
export interface SessionStore {
  createSession(session: Session): Promise<void>;
  /** The session, or null when unknown, revoked or expired. */
  findSession(tokenHash: string, now: Date): Promise<Session | null>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Revokes every session of the user (password reset, deactivation). */
  deleteUserSessions(userId: string): Promise<void>;
  /** Revokes every session of the user but the one with `keptTokenHash` (a password change keeps the caller's). */
  deleteOtherUserSessions(userId: string, keptTokenHash: string): Promise<void>;
  /** The user's live sessions (unexpired at `now`), in no particular order. */
  listUserSessions(userId: string, now: Date): Promise<Session[]>;
  /** Records that `session` was used at `lastSeenAt`; a session ended meanwhile stays ended. */
  touchSession(session: Session, lastSeenAt: Date): Promise<void>;
}

/** A refresh token as storage knows it: the family it belongs to and its generation in that family. */
export interface RefreshTokenOwner {
  readonly family: RefreshFamily;
  readonly generation: number;
  /** The hash of the family's current token (the one of generation `family.generation`). */
  readonly currentTokenHash: string;
}

/** A family about to start: its first token and the login's session, both as hashes. */
export interface NewRefreshFamily {
  readonly family: RefreshFamily;
  readonly tokenHash: string;
  readonly sessionTokenHash: string;
}

/** A rotation: from which generation, and the next token and session (hashes). */
export interface RefreshRotation {
  readonly familyId: string;
  readonly fromGeneration: number;
  readonly tokenHash: string;
  readonly sessionTokenHash: string;
  readonly now: Date;
}

/** Families ended before these moments (expired, last used, revoked) are of no more use. */
export interface EndedFamilyCutoffs {
  readonly expiredBefore: Date;
  readonly idleBefore: Date;
  readonly revokedBefore: Date;
}

/**
 * Refresh families and every token they issued (only SHA-256 hashes), each with the hash of the session it
 * came with, so ending a family reaches every session it minted.
 */
export interface RefreshFamilyStore {
  /** Starts a family at generation 0 with its first token and the login's session. */
  createFamily(input: NewRefreshFamily): Promise<void>;
  /** The family and generation of a token of any generation, or null when unknown. */
  findTokenOwner(tokenHash: string): Promise<RefreshTokenOwner | null>;
  findFamily(familyId: string): Promise<RefreshFamily | null>;
  /**
   * Moves a live family from `fromGeneration` to the next with a new token and session, atomically and
   * conditionally: of any number of concurrent calls for one generation, exactly one returns true; a revoked
   * family never rotates.
   */
  rotateFamily(input: RefreshRotation): Promise<boolean>;
  /** Marks the family revoked (if it is not yet) and returns the hashes of every session it minted. */
  revokeFamily(familyId: string, now: Date): Promise<string[]>;
  /** The id of the family that minted the session, or null (a session from a login without refresh token). */
  findFamilyIdOfSession(sessionTokenHash: string): Promise<string | null>;
  /** Revokes every family of the user, but the one that minted `keptSessionTokenHash`, if given. */
  revokeUserFamilies(
    userId: string,
    now: Date,
    options?: { readonly keptSessionTokenHash?: string },
  ): Promise<void>;
  /**
   * Deletes the families no token of which can work any more: expired before `expiredBefore`, unused since
   * `idleBefore`, or revoked before `revokedBefore`. Returns how many.
   */
  deleteEndedFamilies(cutoffs: EndedFamilyCutoffs): Promise<number>;
}

/** One queued email as the dispatcher sees it. */
export interface OutboxEntry {
  readonly id: string;
  readonly messageId: string;
  readonly message: EmailMessage;
  readonly attempts: number;
  readonly createdAt: Date;
}

/** The dispatcher's side of the outbox. Safe with several dispatchers: a claimed entry is leased to one. */
export interface OutboxQueue {
  /** Leases up to `limit` due entries for `leaseSeconds`; a crashed dispatcher's lease runs out and the entry returns. */
  claimDueEmails(limit: number, now: Date, leaseSeconds: number): Promise<OutboxEntry[]>;
  markEmailSent(id: string, now: Date): Promise<void>;
  scheduleEmailRetry(id: string, nextAttemptAt: Date, error: string): Promise<void>;
  markEmailAbandoned(id: string, error: string): Promise<void>;
}

export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly retryAfterSeconds: number;
}

/**
 * A fixed budget of `points` per `durationSeconds` for each key, shared by every instance that shares the store.
 * A store that cannot be reached throws DependencyUnavailableError: an outage never counts as "allowed".
 */
export interface RateLimiter {
  /** Spends one point atomically; refused once the window's points are spent. */
  consume(key: string): Promise<RateLimitDecision>;
  /** Gives back one point spent by `consume` (a successful login does not count against its account). */
  refund(key: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** Something a readiness probe can ask. */
export interface HealthCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** Rows no flow can use any more, and how many of each a clean-up deleted. */
export interface DeletedRecordCounts {
  readonly tokens: number;
  readonly sessions: number;
  readonly emails: number;
  /** Accounts whose owner deleted them before the grace period (their tokens, sessions and queued mail too). */
  readonly accounts: number;
  /** Refresh families that ended (expired, idle or revoked) over a day before, with their tokens. */
  readonly refreshFamilies?: number;
  /** Audit events older than AUDIT_RETENTION_DAYS. */
  readonly auditEvents: number;
  /** Delivered and abandoned webhook deliveries older than a week. */
  readonly webhookDeliveries: number;
}

/** The moments before which each kind of record has outlived its use. */
export interface ExpiredRecordCutoffs {
  /** Tokens that expired, or were consumed, before this. */
  readonly tokensBefore: Date;
  /** Sessions that expired before this (sessions kept in the database only). */
  readonly sessionsBefore: Date;
  /** Sent or abandoned emails finished before this; queued mail is never deleted. */
  readonly finishedEmailsBefore: Date;
  /** Accounts deleted by their owner before this are removed for good, with everything that is theirs. */
  readonly accountsDeletedBefore: Date;
  /** Audit events that occurred before this go (AUDIT_RETENTION_DAYS). */
  readonly auditEventsBefore: Date;
  /** Delivered or abandoned webhook deliveries created before this; waiting ones are never deleted. */
  readonly finishedWebhookDeliveriesBefore: Date;
  /** When the pass runs: the time of what a removal records (its audit event, its user.deleted webhook). */
  readonly passAt: Date;
}

/**
 * Deletes what has outlived its use, so no table grows without bound. Safe from several processes at once:
 * each delete is idempotent, and one process's batch simply finds the other's rows gone.
 */
export interface ExpiredRecordsStore {
  deleteExpiredRecords(cutoffs: ExpiredRecordCutoffs): Promise<DeletedRecordCounts>;
}

/** One row of the FastAPI tutorial's `users` table, as it stored it. */
export interface TutorialUser {
  readonly id: number;
  readonly email: string;
  readonly hashedPassword: string;
  /** The tutorial's columns are nullable; null reads as its default, false. */
  readonly isActive: boolean;
  readonly isVerified: boolean;
  /** The tutorial stored naive UTC; null when the row has none. */
  readonly createdAt: Date | null;
}

/** The tutorial's `users` table, read a page at a time in id order, so any size fits in memory. */
export interface TutorialUserSource {
  /** Up to `limit` users with an id above `afterId`, by id. */
  readTutorialUsers(afterId: number, limit: number): Promise<TutorialUser[]>;
}

/** An account about to be created from a tutorial user, with the hash and flags it had there. */
export interface ImportedAccount {
  readonly tutorialId: number;
  readonly email: string;
  readonly emailKey: string;
  readonly passwordHash: string;
  readonly isActive: boolean;
  readonly isVerified: boolean;
  readonly createdAt: Date;
}

/** Which account a tutorial user became; userId is null once that account was deleted. */
export interface TutorialUserMapping {
  readonly tutorialId: number;
  readonly userId: string | null;
  readonly importedAt: Date;
}

/** Accounts imported from the tutorial, and the map from its integer ids to theirs. */
export interface TutorialImportStore {
  /** Of these tutorial ids, the ones imported before (by an earlier run). */
  findImportedTutorialIds(tutorialIds: readonly number[]): Promise<Set<number>>;
  /** Of these address keys, the ones an account (imported or not) already has. */
  findTakenEmailKeys(emailKeys: readonly string[]): Promise<Set<string>>;
  /**
   * Creates the accounts and their map rows in one transaction. An account whose address key or tutorial id
   * was taken meanwhile is not created: its tutorial id is returned in `notInserted`.
   */
  insertImportedAccounts(
    accounts: readonly ImportedAccount[],
    importedAt: Date,
  ): Promise<{ readonly inserted: readonly TutorialUserMapping[]; readonly notInserted: readonly number[] }>;
  /** Up to `limit` map rows with a tutorial id above `afterTutorialId`, by tutorial id. */
  listTutorialUserMappings(afterTutorialId: number, limit: number): Promise<TutorialUserMapping[]>;
}

/** One JWT signing key as stored: the public JWK, and the private key sealed under SECRET_KEY. */
export interface StoredSigningKey {
  readonly kid: string;
  /** 1 for the first key, one more for each successor: two instances cannot both add the same successor. */
  readonly generation: number;
  /** The public JWK, as JSON. */
  readonly publicJwk: string;
  /** The PKCS #8 private key, sealed (AES-256-GCM under a key derived from SECRET_KEY). */
  readonly sealedPrivateKey: string;
  /** When it was created, and published in the JWKS. */
  readonly createdAt: Date;
  /** From when it signs (it is published well before, so verifiers have it when it starts). */
  readonly signingStartsAt: Date;
  /** When it stops signing (its successor's start); null while it has no successor. */
  readonly signingEndsAt: Date | null;
  /** When it leaves the JWKS (every token it signed has expired); null while it has no successor. */
  readonly publishedUntil: Date | null;
}

/** The JWT signing keys every instance shares. The set is small (a few keys): it is read whole. */
export interface SigningKeyStore {
  /** Every stored key, oldest generation first. */
  listSigningKeys(): Promise<StoredSigningKey[]>;
  /**
   * Adds `key` unless a key of its generation exists (false then, and nothing changes). In the same atomic
   * step every older key still without a successor gets `retire`'s end times, so there is one signing line.
   */
  insertSigningKey(
    key: StoredSigningKey,
    retire: { readonly signingEndsAt: Date; readonly publishedUntil: Date },
  ): Promise<boolean>;
  /** Deletes the keys that left the JWKS before `before`; returns how many. */
  deleteSigningKeysUnpublishedBefore(before: Date): Promise<number>;
}

/**
 * Where a page ends, for keyset paging: a time to the microsecond (decimal digits since the epoch, exact
 * where a Date would round) and the row's id, which breaks ties.
 */
export interface PagePosition {
  readonly atMicroseconds: string;
  readonly id: string;
}

/** One page of rows; `next` is null only when nothing follows. */
export interface Page<Row> {
  readonly rows: readonly Row[];
  readonly next: PagePosition | null;
}

/** An audit event as stored. */
export interface StoredAuditEvent extends AuditRecord {
  readonly id: string;
}

export interface AuditEventQuery {
  readonly userId: string | null;
  readonly event: string | null;
  /** Events at or after this moment only. */
  readonly since: Date | null;
  readonly after: PagePosition | null;
  readonly limit: number;
}

/** The audit trail: append-only, read oldest first. */
export interface AuditTrail {
  appendAuditEvent(record: AuditRecord): Promise<void>;
  /** Matching events ordered by (occurred_at, id), after `after`; an event appended later never shifts a page. */
  listAuditEvents(query: AuditEventQuery): Promise<Page<StoredAuditEvent>>;
}

/** An operator key as stored: its hash is looked up, never listed. */
export interface AdminKey {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** Operator keys for /admin/*; only the SHA-256 of a key is stored. */
export interface AdminKeyStore {
  insertAdminKey(input: { readonly name: string; readonly keyHash: string }): Promise<AdminKey>;
  /** The key with that hash, revoked or not; null when none has it. */
  findAdminKeyByHash(keyHash: string): Promise<AdminKey | null>;
  /** Every key, oldest first. */
  listAdminKeys(): Promise<AdminKey[]>;
  /** False when there is no such key or it is revoked already (the first revocation time stays). */
  revokeAdminKey(keyId: string, at: Date): Promise<boolean>;
  /** Sets last_used_at to `at` unless it is after `unlessSince`: at most one write per interval. */
  recordAdminKeyUse(keyId: string, at: Date, unlessSince: Date): Promise<void>;
}

export interface UserListQuery {
  /** Lower-case text the address key must contain; null for every account. */
  readonly containing: string | null;
  readonly after: PagePosition | null;
  readonly limit: number;
}

/** The operators' read side of the accounts: listing and what a single account's page shows. */
export interface UserDirectory {
  /** Every account (deleted ones in their grace period too) ordered by (created_at, id). */
  listUsers(query: UserListQuery): Promise<Page<User>>;
  /** The new address of an email change awaiting confirmation at `now`, or null. */
  findPendingEmailChange(userId: string, now: Date): Promise<string | null>;
  /** The last successful login the audit trail knows of, or null. */
  findLastLoginAt(userId: string): Promise<Date | null>;
}

/** Mail not sent yet (`queued`: no attempt failed; `retrying`: one did) or given up on (`abandoned`). */
export type OutboxListStatus = 'queued' | 'retrying' | 'abandoned';

/** One outbox entry as an operator may see it: never its message (which holds the link). */
export interface OutboxSummary {
  readonly id: string;
  /** The full address: the flows show its domain only. */
  readonly recipient: string;
  readonly template: string;
  readonly status: OutboxListStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
}

/** The operators' read side of the outbox. */
export interface OutboxBrowser {
  /** Unsent and abandoned entries (of `status` only, when given) ordered by (created_at, id). */
  listOutboxEmails(query: {
    readonly status: OutboxListStatus | null;
    readonly after: PagePosition | null;
    readonly limit: number;
  }): Promise<Page<OutboxSummary>>;
}
