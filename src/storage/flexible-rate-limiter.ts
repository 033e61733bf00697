import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitDecision, RateLimiter } from '../flows/ports.ts';

/**
 * The RateLimiter port over a rate-limiter-flexible store. A spent budget rejects with a RateLimiterRes;
 * anything else is a store failure, handed to `translateFailure` (Redis: DependencyUnavailableError).
 */
export function adaptFlexibleRateLimiter(
  limiter: RateLimiterAbstract,
  translateFailure: (error: unknown) => Error = (error) =>
    error instanceof Error ? error : new Error(String(error)),
): RateLimiter {
  return {
    async consume(key: string): Promise<RateLimitDecision> {
      try {
        await limiter.consume(key);
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        }
        throw translateFailure(rejection);
      }
    },
    async refund(key: string): Promise<void> {
      try {
        await limiter.reward(key, 1);
      } catch (error) {
        throw translateFailure(error);
      }
    },
  };
}
