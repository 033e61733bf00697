import { RateLimiterRedis } from 'rate-limiter-flexible';
import { DependencyUnavailableError } from '../../flows/errors.ts';
import type { RateLimiter } from '../../flows/ports.ts';
import { adaptFlexibleRateLimiter } from '../flexible-rate-limiter.ts';
import { withinRedisDeadline, type RedisClient } from './client.ts';

/**
 * A budget kept in Redis, so every service instance sharing that Redis spends one budget: each check is one
 * atomic Lua INCRBY whose key expires with the window, so keys never outlive it. Every command names that one
 * key (`<keyPrefix>:<key>`) and nothing else, so it works unchanged on a Redis Cluster: one key is one slot.
 *
 * Redis being down is never read as "allowed" (that would switch brute-force protection off) nor waited for:
 * the check rejects with DependencyUnavailableError, within the client's command timeout (see createRedisClient).
 */
export function createRedisRateLimiter(
  redis: RedisClient,
  options: { keyPrefix: string; points: number; durationSeconds: number },
): RateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: options.keyPrefix,
    points: options.points,
    duration: options.durationSeconds,
  });
  const adapted = adaptFlexibleRateLimiter(
    limiter,
    (error) => new DependencyUnavailableError('redis', error),
  );
  // Bounded here too (see withinRedisDeadline): a queued check must not outlast the command timeout.
  return {
    consume: (key) => withinRedisDeadline(() => adapted.consume(key)),
    refund: (key) => withinRedisDeadline(() => adapted.refund(key)),
  };
}
