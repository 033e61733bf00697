import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { RateLimiter } from '../../flows/ports.ts';
import { adaptFlexibleRateLimiter } from '../flexible-rate-limiter.ts';

/**
 * A budget kept in this process's memory, for embedded mode (one instance). Two limiters built by two calls
 * never share a budget, so build each limiter once and pass it to every flow that spends it; a restart
 * refills every budget.
 */
export function createMemoryRateLimiter(options: {
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}): RateLimiter {
  return adaptFlexibleRateLimiter(
    new RateLimiterMemory({
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.durationSeconds,
    }),
  );
}
