/** One window of a budget: `points` attempts per `durationSeconds`. */
export interface Budget {
  readonly points: number;
  readonly durationSeconds: number;
}

/**
 * Every budget the service enforces, by name (layer.route[.window]); RATE_LIMITS overrides any of them.
 * - ip: per client IP and route, spent by every request; `ip.admin` is spent by every admin call and given
 *   back when the admin key is accepted, so only refused keys accumulate.
 * - account: per submitted address, spent by every login attempt and given back by a success, so only
 *   failures accumulate; growing windows slow guessing long before NIST's 100 consecutive failures.
 * - token: per submitted reset token, spent by every confirmation attempt; per refresh family, spent by
 *   every refresh of one of its tokens (racing tabs included).
 * - recipient: per address we would send mail to; over budget, the email is dropped and the answer is
 *   unchanged, so nobody can bomb an inbox through the public routes.
 */
export const defaultBudgets = {
  'ip.register': { points: 10, durationSeconds: 60 },
  'ip.verify_email': { points: 30, durationSeconds: 60 },
  'ip.resend_verification': { points: 5, durationSeconds: 60 },
  'ip.login': { points: 20, durationSeconds: 60 },
  'ip.request_password_reset': { points: 5, durationSeconds: 60 },
  'ip.reset_password': { points: 20, durationSeconds: 60 },
  'ip.token': { points: 60, durationSeconds: 60 },
  'ip.jwt': { points: 600, durationSeconds: 60 },
  'ip.admin': { points: 30, durationSeconds: 10 * 60 },
  'account.login.minute': { points: 5, durationSeconds: 60 },
  'account.login.hour': { points: 20, durationSeconds: 60 * 60 },
  'account.login.day': { points: 100, durationSeconds: 24 * 60 * 60 },
  'token.reset_password': { points: 10, durationSeconds: 60 * 60 },
  'token.refresh_family': { points: 30, durationSeconds: 60 },
  'recipient.email.hour': { points: 5, durationSeconds: 60 * 60 },
  'recipient.email.day': { points: 20, durationSeconds: 24 * 60 * 60 },
} as const satisfies Record<string, Budget>;

export type BudgetName = keyof typeof defaultBudgets;
export type RateLimitLayer = 'ip' | 'account' | 'token' | 'recipient';

export function isBudgetName(name: string): name is BudgetName {
  return Object.hasOwn(defaultBudgets, name);
}

/** The budget names of one layer whose name starts with `prefix` (e.g. "account.login"). */
export function budgetNamesStartingWith(prefix: string): BudgetName[] {
  return (Object.keys(defaultBudgets) as BudgetName[]).filter(
    (name) => name === prefix || name.startsWith(`${prefix}.`),
  );
}
