import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { createRedisClient, type RedisClient } from '../storage/redis/client.ts';

/** Sessions and rate limits (one Redis, a Cluster or Sentinel); connects in the background and reconnects forever. */
export function connectRedis(config: NonNullable<Config['redis']>, logger: Logger): RedisClient {
  const redis = createRedisClient(config);
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection problem'));
  return redis;
}
