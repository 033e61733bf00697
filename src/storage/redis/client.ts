import { Redis } from 'ioredis';
import { DependencyUnavailableError } from '../../flows/errors.ts';
import type { HealthCheck } from '../../flows/ports.ts';

// A request must fail fast (and be answered 503) while Redis is down, never wait for it:
// every command gives up after commandTimeoutMs even when it sits in the offline queue.
const commandTimeoutMs = 1000;
const connectTimeoutMs = 2000;
// Reconnecting never stops, so the service heals by itself once Redis is back; the cap keeps the gap short.
const reconnectDelayStepMs = 100;
const reconnectDelayMaxMs = 1000;

/**
 * A Redis client that never waits forever: commands fail within about a second while Redis is down, and
 * the connection comes back by itself. The offline queue stays on so commands sent during start-up (before
 * the first connect) are not refused outright; `commandTimeout` bounds their wait instead.
 *
 * `keyPrefix` is applied to every key, so several deployments can share one Redis. The caller should
 * listen to `'error'` (and log it); without a listener ioredis prints each connection error itself.
 */
export function createRedisClient(options: { url: string; password?: string; keyPrefix: string }): Redis {
  const connection = separateCredentials(options.url, options.password);
  return new Redis(connection.url, {
    ...connection.credentials,
    keyPrefix: options.keyPrefix,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * reconnectDelayStepMs, reconnectDelayMaxMs),
  });
}

/**
 * An explicit password wins over one in the URL. ioredis prefers whatever the URL carries (even an empty
 * password next to a user name), so the credentials leave the URL and travel as options instead.
 */
function separateCredentials(
  url: string,
  password: string | undefined,
): { url: string; credentials: { username?: string; password?: string } } {
  if (password === undefined) return { url, credentials: {} };
  const parsed = new URL(url);
  const username = decodeURIComponent(parsed.username);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), credentials: username === '' ? { password } : { username, password } };
}

/** Readiness: Redis answers PING within the command timeout. */
export function createRedisHealthCheck(redis: Redis): HealthCheck {
  return {
    name: 'redis',
    async check(): Promise<void> {
      let reply: string;
      try {
        reply = await redis.ping();
      } catch (error) {
        throw new DependencyUnavailableError('redis', error);
      }
      if (reply !== 'PONG')
        throw new DependencyUnavailableError('redis', new Error(`PING answered ${reply}`));
    },
  };
}
