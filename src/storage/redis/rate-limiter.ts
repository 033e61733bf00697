import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { DependencyUnavailableError } from '../../flows/errors.ts';
import type { RateLimitDecision, RateLimiter } from '../../flows/ports.ts';

/**
 * A budget kept in Redis, so every service instance sharing that Redis spends one budget: each check is one
 * atomic Lua INCRBY whose key expires with the window, so keys never outlive it.
 *
 * Redis being down is never read as "allowed" (that would switch brute-force protection off) nor waited for:
 * the check rejects with DependencyUnavailableError, within the client's command timeout (see createRedisClient).
 */
export function createRedisRateLimiter(
  redis: Redis,
  options: { keyPrefix: string; points: number; durationSeconds: number },
): RateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: options.keyPrefix,
    points: options.points,
    duration: options.durationSeconds,
  });
  return {
    async consume(key: string): Promise<RateLimitDecision> {
      try {
        await limiter.consume(key);
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (rejection) {
        // rate-limiter-flexible rejects with a RateLimiterRes when the budget is spent, with an Error when Redis fails.
        if (rejection instanceof RateLimiterRes) {
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        }
        throw new DependencyUnavailableError('redis', rejection);
      }
    },
  };
}
