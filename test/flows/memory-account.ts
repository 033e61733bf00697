import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import type { AccountContext, PasswordHasher } from '../../src/flows/context.ts';
import { verifyEmailAddress } from '../../src/flows/email-verification.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import type { AttemptBudgets } from '../../src/flows/attempt-budgets.ts';
import type { EmailMessage, User } from '../../src/flows/model.ts';
import type { RateLimiter } from '../../src/flows/ports.ts';
import { createCommonPasswordList } from '../../src/security/common-passwords.ts';
import { parseEmailAddress, type EmailAddress } from '../../src/security/email-address.ts';
import { normalizePassword } from '../../src/security/passwords.ts';
import { deriveRefreshTokenKey } from '../../src/security/tokens.ts';
import { budgetNamesStartingWith, defaultBudgets } from '../../src/security/rate-limit-budgets.ts';
import { createManualClock, type ManualClock } from '../../src/storage/memory/clock.ts';
import { MemoryAuditTrail } from '../../src/storage/memory/audit-trail.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import { createMemoryRateLimiter } from '../../src/storage/memory/rate-limiter.ts';
import { MemoryRefreshFamilyStore } from '../../src/storage/memory/refresh-family-store.ts';
import { MemorySessionStore } from '../../src/storage/memory/session-store.ts';
import { MemoryTokenStore } from '../../src/storage/memory/token-store.ts';
import { MemoryTransactor } from '../../src/storage/memory/transactor.ts';
import { MemoryUserStore } from '../../src/storage/memory/user-store.ts';

export const sessionLifetimeSeconds = 30 * 60;
/** The refresh settings of the flow tests: the service's defaults. */
export const refreshTokenSettings = {
  absoluteLifetimeSeconds: 30 * 24 * 60 * 60,
  idleLifetimeSeconds: 14 * 24 * 60 * 60,
  reuseGraceSeconds: 10,
  derivationKey: deriveRefreshTokenKey('flow tests secret key'),
} as const;
export const baseUrl = 'https://auth.example.test';

/** A password every rule accepts, and others, all distinct. */
export const password = 'correct horse battery staple';
export const otherPassword = 'a different but equally long passphrase';
export const thirdPassword = 'yet another acceptable long passphrase';

/**
 * Hashes that cost nothing, so a rule runs in milliseconds: `cheap$<sha256>`; a `legacy$` hash verifies the
 * same way but asks for a rehash, as a tutorial bcrypt hash does. Counts every computation, for the rules
 * about equal work.
 */
export interface CheapPasswordHasher extends PasswordHasher {
  readonly computations: { hashes: number; verifications: number; dummyVerifications: number };
}

function digest(password: string): string {
  return hash('sha256', normalizePassword(password), 'hex');
}

export function createCheapPasswordHasher(): CheapPasswordHasher {
  const computations = { hashes: 0, verifications: 0, dummyVerifications: 0 };
  return {
    computations,
    async hashPassword(password) {
      computations.hashes += 1;
      return `cheap$${digest(password)}`;
    },
    async verifyPassword(passwordHash, password) {
      computations.verifications += 1;
      const [scheme, stored] = passwordHash.split('$');
      const valid = stored === digest(password);
      return { valid, needsRehash: valid && scheme === 'legacy' };
    },
    async verifyAgainstDummyHash() {
      computations.dummyVerifications += 1;
    },
  };
}

export function legacyHashOf(password: string): string {
  return `legacy$${digest(password)}`;
}

function buildLimiters(prefix: string): RateLimiter[] {
  return budgetNamesStartingWith(prefix).map((name) =>
    createMemoryRateLimiter({ keyPrefix: name, ...defaultBudgets[name] }),
  );
}

/** The service's default budgets, in memory, fresh for each account under test. */
export function createDefaultBudgets(): AttemptBudgets {
  return {
    loginAttemptsPerAccount: buildLimiters('account.login'),
    resetAttemptsPerToken: buildLimiters('token.reset_password'),
    emailsPerRecipient: buildLimiters('recipient.email'),
    refreshesPerFamily: buildLimiters('token.refresh_family'),
  };
}

/** The flows on memory adapters, a manual clock and cheap hashes, with what a test needs to look inside. */
export interface MemoryAccount {
  readonly context: AccountContext;
  readonly clock: ManualClock;
  readonly database: MemoryDatabase;
  readonly users: MemoryUserStore;
  readonly sessions: MemorySessionStore;
  readonly refreshFamilies: MemoryRefreshFamilyStore;
  readonly hasher: CheapPasswordHasher;
  /** The mail queued for `address` (case as typed), oldest first. */
  emailsTo(address: string): EmailMessage[];
  /** The token in the link of the newest email to `address`, which must be of that template. */
  tokenFromLatestEmail(address: string, template: EmailMessage['template']): string;
  findUser(address: string): Promise<User>;
}

export function createMemoryAccount(
  options: {
    budgets?: AttemptBudgets;
    accountDeletionGraceDays?: number;
    webhookUrls?: readonly string[];
  } = {},
): MemoryAccount {
  // Not on a whole minute, so a deadline rounded to the minute is seen rounded.
  const clock = createManualClock(new Date('2026-01-15T09:00:30.250Z'));
  const database = new MemoryDatabase({ clock });
  const users = new MemoryUserStore(database);
  const sessions = new MemorySessionStore();
  const refreshFamilies = new MemoryRefreshFamilyStore();
  const hasher = createCheapPasswordHasher();
  const webhooks = options.webhookUrls === undefined ? undefined : { urls: options.webhookUrls };
  const context: AccountContext = {
    transactor: new MemoryTransactor(database, webhooks === undefined ? {} : { webhooks }),
    users,
    tokens: new MemoryTokenStore(database),
    sessions,
    audit: new MemoryAuditTrail(database, undefined, webhooks),
    clock,
    links: {
      verifyEmailUrl: (token) => `${baseUrl}/verify-email?token=${token}`,
      resetPasswordUrl: (token) => `${baseUrl}/reset-password?token=${token}`,
      requestPasswordResetUrl: () => `${baseUrl}/reset-password`,
      confirmEmailChangeUrl: (token) => `${baseUrl}/confirm-email-change?token=${token}`,
      cancelEmailChangeUrl: (token) => `${baseUrl}/cancel-email-change?token=${token}`,
      restoreAccountUrl: (token) => `${baseUrl}/restore-account?token=${token}`,
    },
    sessionLifetimeSeconds,
    refreshFamilies,
    refreshTokens: refreshTokenSettings,
    ...(options.accountDeletionGraceDays === undefined
      ? {}
      : { accountDeletionGraceDays: options.accountDeletionGraceDays }),
    passwordPolicy: {
      minimumLength: 15,
      commonPasswords: createCommonPasswordList(['passwordpassword123']),
    },
    budgets: options.budgets ?? createDefaultBudgets(),
    passwordHasher: hasher,
  };
  function emailsTo(address: string): EmailMessage[] {
    return database.emails.filter((record) => record.message.to === address).map((record) => record.message);
  }
  return {
    context,
    clock,
    database,
    users,
    sessions,
    refreshFamilies,
    hasher,
    emailsTo,
    tokenFromLatestEmail(address, template) {
      const latest = emailsTo(address).at(-1);
      assert.ok(latest, `no email to ${address}`);
      assert.equal(latest.template, template);
      return tokenOf(latest);
    },
    async findUser(address) {
      const user = await users.findUserByEmailKey(emailAddress(address).key);
      assert.ok(user, `no account for ${address}`);
      return user;
    },
  };
}

/** The token in an emailed link. */
export function tokenOf(message: EmailMessage): string {
  const url = 'url' in message.params ? message.params.url : message.params.resetUrl;
  assert.ok(url, `no link in the ${message.template} email`);
  const token = new URL(url).searchParams.get('token');
  assert.ok(token, `no token in ${url}`);
  return token;
}

export function emailAddress(input: string): EmailAddress {
  const parsed = parseEmailAddress(input);
  assert.ok(parsed, `not an address: ${input}`);
  return parsed;
}

/** Resolves when `promise` rejects with a FlowError of that code. */
export async function assertFlowError(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

/** Registers `address` with `password` and follows its verification link. */
export async function addVerifiedAccount(
  account: MemoryAccount = createMemoryAccount(),
  address = 'alice@example.test',
): Promise<MemoryAccount> {
  await registerAccount(account.context, emailAddress(address), password);
  await verifyEmailAddress(account.context, account.tokenFromLatestEmail(address, 'verify_email'));
  return account;
}
