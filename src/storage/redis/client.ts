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
    // Commands issued in the same tick leave in one write. Under load the write per command was the largest
    // single cost of a session check (docs/performance.md).
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * reconnectDelayStepMs, reconnectDelayMaxMs),
  });
}

/**
 * Bounds one Redis call to `commandTimeoutMs` from the moment it is made. ioredis' own commandTimeout starts
 * when a command is written; with auto-pipelining a command first waits for the pipeline ahead of it to
 * finish, and while Redis hangs (or reconnects) each pipeline takes the whole timeout: the wait of a request
 * would grow with the queue in front of it, a second per pipeline. With this bound every request gets its
 * answer (503) in time, whatever the queue.
 */
export async function withinRedisDeadline<T>(call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new DependencyUnavailableError('redis', new Error('Command timed out'))),
          commandTimeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
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
        reply = await withinRedisDeadline(() => redis.ping());
      } catch (error) {
        throw new DependencyUnavailableError('redis', error);
      }
      if (reply !== 'PONG')
        throw new DependencyUnavailableError('redis', new Error(`PING answered ${reply}`));
    },
  };
}
