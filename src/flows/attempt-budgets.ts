import type { RateLimitDecision, RateLimiter } from './ports.ts';
import { hashToken } from '../security/tokens.ts';

/** The budgets the flows spend themselves (the per-IP layer is spent by the HTTP layer). Empty = no limit. */
export interface AttemptBudgets {
  /** Per submitted address: every login attempt spends one point, a success gives it back. */
  readonly loginAttemptsPerAccount: readonly RateLimiter[];
  /** Per submitted reset token: every confirmation attempt spends one point. */
  readonly resetAttemptsPerToken: readonly RateLimiter[];
  /** Per recipient: every email triggered by a public route spends one point; over budget it is dropped. */
  readonly emailsPerRecipient: readonly RateLimiter[];
  /** Per refresh family: every refresh of one of its tokens spends one point. */
  readonly refreshesPerFamily: readonly RateLimiter[];
}

export const noAttemptBudgets: AttemptBudgets = {
  loginAttemptsPerAccount: [],
  resetAttemptsPerToken: [],
  emailsPerRecipient: [],
  refreshesPerFamily: [],
};

/**
 * Budget keys are hashes: the limit store never holds an address or a token, and an address that has no
 * account is keyed exactly like one that has.
 */
export function budgetKey(identifier: string): string {
  return hashToken(identifier).slice(0, 32);
}

/** Spends one point of every window; refused when any window is spent, with the longest wait. */
export async function spendAttempt(
  limiters: readonly RateLimiter[],
  key: string,
): Promise<RateLimitDecision> {
  const decisions = await Promise.all(limiters.map((limiter) => limiter.consume(key)));
  const refused = decisions.filter((decision) => !decision.allowed);
  if (refused.length === 0) return { allowed: true, retryAfterSeconds: 0 };
  return {
    allowed: false,
    retryAfterSeconds: Math.max(...refused.map((decision) => decision.retryAfterSeconds)),
  };
}

/** Gives back the point a successful attempt spent; earlier failures stay counted. */
export async function refundAttempt(limiters: readonly RateLimiter[], key: string): Promise<void> {
  await Promise.all(limiters.map((limiter) => limiter.refund(key)));
}

/** Spends the recipient's email budget; false means "drop the email, answer as usual". */
export async function mayEmailRecipient(
  context: { readonly budgets: AttemptBudgets },
  emailKey: string,
): Promise<boolean> {
  return (await spendAttempt(context.budgets.emailsPerRecipient, budgetKey(`recipient:${emailKey}`))).allowed;
}
