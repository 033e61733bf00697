import type { AttemptBudgets } from './attempt-budgets.ts';
import type {
  AuditTrail,
  Clock,
  RefreshFamilyStore,
  SessionStore,
  TokenStore,
  Transactor,
  UserStore,
} from './ports.ts';
import type { PasswordPolicy } from '../security/password-policy.ts';
import {
  hashPassword,
  verifyAgainstDummyHash,
  verifyPassword,
  type PasswordCheck,
} from '../security/passwords.ts';

/** Where emailed links point: always built from APP_BASE_URL, never from a request's Host header. */
export interface LinkBuilder {
  /** `returnTo`, already checked against RETURN_TO_ORIGINS, rides along so the link's page can send the person back. */
  verifyEmailUrl(token: string, returnTo?: string): string;
  resetPasswordUrl(token: string, returnTo?: string): string;
  /** The page that asks for an address and sends a fresh reset link. */
  requestPasswordResetUrl(): string;
  confirmEmailChangeUrl(token: string): string;
  cancelEmailChangeUrl(token: string): string;
  restoreAccountUrl(token: string): string;
}

/** What the account flows need; every part is a port, so flows never know which adapters run. */
export interface AccountContext {
  readonly transactor: Transactor;
  /** Reads outside a transaction. */
  readonly users: UserStore;
  readonly tokens: TokenStore;
  readonly sessions: SessionStore;
  /** For events whose change has no transaction (sessions); the others go through the transaction's trail. */
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly links: LinkBuilder;
  readonly sessionLifetimeSeconds: number;
  /** The refresh families of logins that asked for a refresh token; ended with the sessions they minted. */
  readonly refreshFamilies: RefreshFamilyStore;
  readonly refreshTokens: RefreshTokenSettings;
  /** ACCOUNT_DELETION_GRACE_DAYS (7 unless given): how long a deleted account can be restored. */
  readonly accountDeletionGraceDays?: number;
  /** The rules every new password (registration, reset) must pass. */
  readonly passwordPolicy: PasswordPolicy;
  readonly budgets: AttemptBudgets;
  /** How passwords are hashed and checked; argon2id (security/passwords.ts) unless given. */
  readonly passwordHasher?: PasswordHasher;
}

/** The lifetimes of refresh families and the key a rotation derives its successor pair with. */
export interface RefreshTokenSettings {
  /** REFRESH_TOKEN_EXPIRE_DAYS: from the family's creation; no refresh extends it. */
  readonly absoluteLifetimeSeconds: number;
  /** REFRESH_TOKEN_IDLE_DAYS: a family not refreshed for this long ends. */
  readonly idleLifetimeSeconds: number;
  /** REFRESH_REUSE_GRACE_SECONDS: how long the predecessor of the current token still gets the current pair. */
  readonly reuseGraceSeconds: number;
  /** deriveRefreshTokenKey of SECRET_KEY. */
  readonly derivationKey: Uint8Array;
}

/** Password hashing as the flows use it. A test may give a cheap one, so a flow runs in milliseconds. */
export interface PasswordHasher {
  hashPassword(password: string): Promise<string>;
  verifyPassword(passwordHash: string, password: string): Promise<PasswordCheck>;
  /** The work of a verification, for an address without a password, so timing does not tell them apart. */
  verifyAgainstDummyHash(password: string): Promise<void>;
}

const argon2PasswordHasher: PasswordHasher = { hashPassword, verifyPassword, verifyAgainstDummyHash };

export function passwordHasherOf(context: Pick<AccountContext, 'passwordHasher'>): PasswordHasher {
  return context.passwordHasher ?? argon2PasswordHasher;
}

export function secondsFrom(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}
