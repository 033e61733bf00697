import type { Clock, SessionStore, TokenStore, Transactor, UserStore } from './ports.ts';

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
}

export const emailVerificationTokenLifetimeSeconds = 24 * 60 * 60;
export const passwordResetTokenLifetimeSeconds = 60 * 60;

export function secondsFrom(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}
