import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { DependencyUnavailableError } from '../../flows/errors.ts';
import type { HealthCheck } from '../../flows/ports.ts';

/** How Latchkey reaches Redis: one URL, a cluster through some of its nodes, or a primary through sentinels. */
export type RedisTopology =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly NodeAddress[] }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly NodeAddress[];
      readonly name: string;
      readonly sentinelPassword: string | undefined;
    };

interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** One Redis (REDIS_URL or a primary found through sentinels) or a Redis Cluster: every adapter takes either. */
export type RedisClient = Redis | Cluster;

// A request must fail fast (and be answered 503) while Redis is down, never wait for it:
// every command gives up after commandTimeoutMs even when it sits in the offline queue.
const commandTimeoutMs = 1000;
const connectTimeoutMs = 2000;
// Reconnecting never stops, so the service heals by itself once Redis is back; the cap keeps the gap short.
const reconnectDelayStepMs = 100;
const reconnectDelayMaxMs = 1000;

const retryStrategy = (attempt: number): number =>
  Math.min(attempt * reconnectDelayStepMs, reconnectDelayMaxMs);

export interface RedisClientOptions {
  readonly topology: RedisTopology;
  /** Wins over a password in the URL. */
  readonly password?: string | undefined;
  /** Cluster and sentinel ways (a URL carries its own). */
  readonly username?: string | undefined;
  /** Cluster and sentinel ways (a URL says it with rediss://). */
  readonly tls?: boolean | undefined;
  readonly keyPrefix: string;
}

/**
 * A Redis client that never waits forever: commands fail within about a second while Redis is down, and
 * the connection comes back by itself. The offline queue stays on so commands sent during start-up (before
 * the first connect) are not refused outright; `commandTimeout` bounds their wait instead.
 *
 * The same options for each way to reach Redis: a URL, a Redis Cluster (ioredis follows the slots and their
 * moves), or a primary found through sentinels (ioredis asks them again after each disconnect, so it follows a
 * failover). Every key a command names gets `keyPrefix`, so several deployments can share one Redis; the prefix
 * holds no braces, so a hash tag inside a key still decides its cluster slot.
 *
 * The caller should listen to `'error'` (and log it); without a listener ioredis prints each connection error.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const common = {
    keyPrefix: options.keyPrefix,
    // Commands issued in the same tick leave in one write. Under load the write per command was the largest
    // single cost of a session check (docs/performance.md).
    enableAutoPipelining: true,
  };
  const perConnection: RedisOptions = {
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.tls === true ? { tls: {} } : {}),
  };
  const topology = options.topology;
  switch (topology.kind) {
    case 'url': {
      const connection = separateCredentials(topology.url, options.password);
      return new Redis(connection.url, {
        ...common,
        ...connection.credentials,
        maxRetriesPerRequest: 1,
        commandTimeout: commandTimeoutMs,
        connectTimeout: connectTimeoutMs,
        retryStrategy,
      });
    }
    case 'cluster':
      return new Cluster(
        topology.nodes.map(({ host, port }) => ({ host, port })),
        {
          ...common,
          redisOptions: perConnection,
          clusterRetryStrategy: retryStrategy,
          slotsRefreshTimeout: connectTimeoutMs,
          // A slot moving (or its primary failing over) is retried after this pause, within the command timeout.
          retryDelayOnFailover: reconnectDelayStepMs,
          retryDelayOnClusterDown: reconnectDelayStepMs,
          retryDelayOnTryAgain: reconnectDelayStepMs,
          // Node names are connected to as given, not resolved to addresses first: with TLS, the certificate
          // is checked against the name.
          ...(options.tls === true
            ? {
                dnsLookup: (address: string, callback: (error: null, address: string) => void) =>
                  callback(null, address),
              }
            : {}),
        },
      );
    case 'sentinel':
      return new Redis({
        ...common,
        ...perConnection,
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        ...(topology.sentinelPassword === undefined ? {} : { sentinelPassword: topology.sentinelPassword }),
        ...(options.tls === true ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        sentinelCommandTimeout: commandTimeoutMs,
        retryStrategy,
        sentinelRetryStrategy: retryStrategy,
        // Listens for the sentinels' +switch-master, so the client moves to a new primary at once.
        failoverDetector: true,
        // A primary demoted to a replica answers writes with READONLY: reconnect (asking the sentinels anew)
        // and send the command again.
        reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 2 : false),
      });
  }
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
export function createRedisHealthCheck(redis: RedisClient): HealthCheck {
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
