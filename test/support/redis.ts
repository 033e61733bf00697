import { Cluster, Redis } from 'ioredis';
import type { RedisTopology } from '../../src/storage/redis/client.ts';
import { createRedisClient, type RedisClient } from '../../src/storage/redis/client.ts';
import { uniqueRunId } from './backends.ts';

/** A Redis to test on: a URL, or any way the service reaches one (a cluster, a primary under sentinels). */
export type RedisTarget = string | RedisTopology;

export function redisTopologyOf(target: RedisTarget): RedisTopology {
  return typeof target === 'string' ? { kind: 'url', url: target } : target;
}

/** A plain client (no key prefix) of the target, as a test looks at keys with it. */
export function openPlainRedisClient(target: RedisTarget): RedisClient {
  const topology = redisTopologyOf(target);
  switch (topology.kind) {
    case 'url':
      return new Redis(topology.url, { maxRetriesPerRequest: 1 });
    case 'cluster':
      return new Cluster(topology.nodes.map(({ host, port }) => ({ host, port })));
    case 'sentinel':
      return new Redis({
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        maxRetriesPerRequest: 1,
      });
  }
}

/** Deletes every key under a prefix (on every primary of a cluster), never anything else on the shared Redis. */
export async function deleteRedisKeys(target: RedisTarget, prefix: string): Promise<void> {
  const redis = openPlainRedisClient(target);
  try {
    // A cluster client knows its nodes only once connected.
    await redis.ping();
    const primaries = redis instanceof Cluster ? redis.nodes('master') : [redis];
    for (const primary of primaries) {
      let cursor = '0';
      do {
        const [next, keys] = await primary.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        // One key per DEL: on a cluster the keys of one node still span several slots.
        await Promise.all(keys.map((key) => primary.del(key)));
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * The test Redis under a fresh key prefix: tests never see each other's keys, and close() deletes only this
 * prefix's keys, after closing every client handed out.
 */
export interface TestRedis {
  readonly keyPrefix: string;
  /** A client as the service builds it, its keys under this prefix (each service instance has its own). */
  client(): RedisClient;
  /** A plain client (the same one each call) that sees the keys as stored, prefix included, to look at TTLs and raw values. */
  inspector(): RedisClient;
  close(): Promise<void>;
}

export function openTestRedis(target: RedisTarget): TestRedis {
  const keyPrefix = `latchkey-test:${uniqueRunId()}:`;
  const clients: RedisClient[] = [];
  let inspector: RedisClient | undefined;
  const handOut = (redis: RedisClient): RedisClient => {
    clients.push(redis);
    return redis;
  };
  return {
    keyPrefix,
    client: () => handOut(createRedisClient({ topology: redisTopologyOf(target), keyPrefix })),
    inspector: () => (inspector ??= handOut(openPlainRedisClient(target))),
    async close() {
      await Promise.all(clients.map((redis) => redis.quit()));
      // quit() leaves a sentinel client's watch on the sentinels open; disconnect() ends it too.
      for (const redis of clients) redis.disconnect();
      await deleteRedisKeys(target, keyPrefix);
    },
  };
}

/** Runs `use` on a TestRedis at `url` and closes it after, whatever happened. */
export async function withTestRedis(
  target: RedisTarget,
  use: (redis: TestRedis) => Promise<void>,
): Promise<void> {
  const redis = openTestRedis(target);
  try {
    await use(redis);
  } finally {
    await redis.close();
  }
}

/**
 * Runs `use` on a client (as the service builds it, under a fresh prefix) of a Redis at `url` that is meant
 * to fail, and disconnects it after.
 */
export async function withFailingRedisClient(
  url: string,
  use: (redis: RedisClient) => Promise<void>,
): Promise<void> {
  const redis = createRedisClient({
    topology: { kind: 'url', url },
    keyPrefix: `latchkey-test:${uniqueRunId()}:`,
  });
  // Connection errors are expected here; without a listener ioredis would print each one.
  redis.on('error', () => {});
  try {
    await use(redis);
  } finally {
    redis.disconnect();
  }
}
