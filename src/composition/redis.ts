import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { createRedisClient } from '../storage/redis/client.ts';

/** Sessions and rate limits; connects in the background and reconnects forever. */
export function connectRedis(config: NonNullable<Config['redis']>, logger: Logger): Redis {
  const redis = createRedisClient({
    url: config.url,
    password: config.password,
    keyPrefix: config.keyPrefix,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection problem'));
  return redis;
}
