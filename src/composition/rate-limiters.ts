import type { Config } from '../config.ts';
import type { AttemptBudgets } from '../flows/attempt-budgets.ts';
import type { RateLimiter } from '../flows/ports.ts';
import { rateLimitedRoutes, type RateLimitedRoute } from '../http/route-deps.ts';
import { budgetNamesStartingWith, type RateLimitLayer } from '../security/rate-limit-budgets.ts';
import { createMemoryRateLimiter } from '../storage/memory/rate-limiter.ts';
import type { RedisClient } from '../storage/redis/client.ts';
import { createRedisRateLimiter } from '../storage/redis/rate-limiter.ts';

/** The limiters of the budgets whose names start with `prefix`, one per window; none when the layer is off. */
export type RateLimiterBuilder = (layer: RateLimitLayer, prefix: string) => RateLimiter[];

/**
 * Limiters in Redis (shared by every instance) or in process memory. Each is built once and shared by every
 * flow and route that spends it.
 */
export function createRateLimiterBuilder(
  config: Config['rateLimit'],
  redis: RedisClient | undefined,
): RateLimiterBuilder {
  return (layer, prefix) => {
    if (!config.enabled || !config.layers[layer]) return [];
    return budgetNamesStartingWith(prefix).map((name) => {
      const options = { keyPrefix: `rate:${name}`, ...config.budgets[name] };
      return redis !== undefined ? createRedisRateLimiter(redis, options) : createMemoryRateLimiter(options);
    });
  };
}

/** The budgets the flows spend themselves. */
export function createAttemptBudgets(buildLimiters: RateLimiterBuilder): AttemptBudgets {
  return {
    loginAttemptsPerAccount: buildLimiters('account', 'account.login'),
    resetAttemptsPerToken: buildLimiters('token', 'token.reset_password'),
    emailsPerRecipient: buildLimiters('recipient', 'recipient.email'),
    refreshesPerFamily: buildLimiters('token', 'token.refresh_family'),
  };
}

/** The per-IP budgets, spent by the HTTP layer before a route runs. */
export function createClientIpLimiters(
  buildLimiters: RateLimiterBuilder,
): Partial<Record<RateLimitedRoute, RateLimiter>> {
  const limiters: Partial<Record<RateLimitedRoute, RateLimiter>> = {};
  for (const route of rateLimitedRoutes) {
    const [limiter] = buildLimiters('ip', `ip.${route}`);
    if (limiter !== undefined) limiters[route] = limiter;
  }
  return limiters;
}
