import type { AttemptBudgets } from './attempt-budgets.ts';
import type { Clock, SessionStore, TokenStore, Transactor, UserStore } from './ports.ts';
import type { PasswordPolicy } from '../security/password-policy.ts';

/** Where emailed links point: always built from APP_BASE_URL, never from a request's Host header. */
export interface LinkBuilder {
  verifyEmailUrl(token: string): string;
  resetPasswordUrl(token: string): string;
  /** The page that asks for an address and sends a fresh reset link. */
  requestPasswordResetUrl(): string;
}

/** What the account flows need; every part is a port, so flows never know which adapters run. */
export interface AccountContext {
  readonly transactor: Transactor;
  /** Reads outside a transaction. */
  readonly users: UserStore;
  readonly tokens: TokenStore;
  readonly sessions: SessionStore;
  readonly clock: Clock;
  readonly links: LinkBuilder;
  readonly sessionLifetimeSeconds: number;
  /** The rules every new password (registration, reset) must pass. */
  readonly passwordPolicy: PasswordPolicy;
  readonly budgets: AttemptBudgets;
}

export function secondsFrom(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}
