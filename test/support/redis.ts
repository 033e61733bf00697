import { Redis } from 'ioredis';
import { createRedisClient } from '../../src/storage/redis/client.ts';
import { uniqueRunId } from './backends.ts';

/** Deletes every key under a prefix, never anything else on the shared Redis. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
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
  client(): Redis;
  /** A plain client (the same one each call) that sees the keys as stored, prefix included, to look at TTLs and raw values. */
  inspector(): Redis;
  close(): Promise<void>;
}

export function openTestRedis(url: string): TestRedis {
  const keyPrefix = `latchkey-test:${uniqueRunId()}:`;
  const clients: Redis[] = [];
  let inspector: Redis | undefined;
  const handOut = (redis: Redis): Redis => {
    clients.push(redis);
    return redis;
  };
  return {
    keyPrefix,
    client: () => handOut(createRedisClient({ url, keyPrefix })),
    inspector: () => (inspector ??= handOut(new Redis(url))),
    async close() {
      await Promise.all(clients.map((redis) => redis.quit()));
      await deleteRedisKeys(url, keyPrefix);
    },
  };
}

/** Runs `use` on a TestRedis at `url` and closes it after, whatever happened. */
export async function withTestRedis(url: string, use: (redis: TestRedis) => Promise<void>): Promise<void> {
  const redis = openTestRedis(url);
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
  use: (redis: Redis) => Promise<void>,
): Promise<void> {
  const redis = createRedisClient({ url, keyPrefix: `latchkey-test:${uniqueRunId()}:` });
  // Connection errors are expected here; without a listener ioredis would print each one.
  redis.on('error', () => {});
  try {
    await use(redis);
  } finally {
    redis.disconnect();
  }
}
