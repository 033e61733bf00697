import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { DependencyUnavailableError } from '../../src/flows/errors.ts';
import { createMemoryRateLimiter } from '../../src/storage/memory/rate-limiter.ts';
import { createRedisClient } from '../../src/storage/redis/client.ts';
import { createRedisRateLimiter } from '../../src/storage/redis/rate-limiter.ts';
import { testRedisUrl, uniqueRunId } from '../support/backends.ts';
import { deleteRedisKeys } from '../support/redis.ts';
import { describeRateLimiterContract } from './rate-limiter.contract.ts';

const redisUrl = testRedisUrl();

describeRateLimiterContract(
  'memory',
  async () => ({
    createLimiter: (budget) => createMemoryRateLimiter(budget),
    async close() {},
  }),
  { sharedAcrossInstances: false },
);

if (redisUrl === undefined) {
  test('RateLimiter contract: Redis', { skip: 'TEST_REDIS_URL is not set' }, () => {});
} else {
  describeRateLimiterContract(
    'Redis',
    async () => {
      // A fresh prefix per store: tests never see each other's keys, and cleanup touches only this prefix.
      const keyPrefix = `latchkey-test:${uniqueRunId()}:`;
      const clients: Redis[] = [];
      return {
        // Each limiter gets its own client, as each service instance would have.
        createLimiter(budget) {
          const redis = createRedisClient({ url: redisUrl, keyPrefix });
          clients.push(redis);
          return createRedisRateLimiter(redis, budget);
        },
        async close() {
          await Promise.all(clients.map((redis) => redis.quit()));
          await deleteRedisKeys(redisUrl, keyPrefix);
        },
      };
    },
    { sharedAcrossInstances: true },
  );

  describe('Redis rate limiter', () => {
    test('a budget key expires with its window, so keys never pile up', async () => {
      const keyPrefix = `latchkey-test:${uniqueRunId()}:`;
      const redis = createRedisClient({ url: redisUrl, keyPrefix });
      const inspector = new Redis(redisUrl);
      try {
        const limiter = createRedisRateLimiter(redis, { keyPrefix: 'login', points: 5, durationSeconds: 60 });
        await limiter.consume('user@example.test');

        const ttlSeconds = await inspector.ttl(`${keyPrefix}login:user@example.test`);
        assert.ok(ttlSeconds > 0 && ttlSeconds <= 60, `TTL ${ttlSeconds}`);
      } finally {
        await redis.quit();
        await inspector.quit();
        await deleteRedisKeys(redisUrl, keyPrefix);
      }
    });
  });
}

test('a Redis rate limiter whose Redis is unreachable rejects with DependencyUnavailableError within 3 s', async () => {
  const redis = createRedisClient({
    url: 'redis://127.0.0.1:1',
    keyPrefix: `latchkey-test:${uniqueRunId()}:`,
  });
  // Connection errors are expected here; without a listener ioredis would print each one.
  redis.on('error', () => {});
  try {
    const limiter = createRedisRateLimiter(redis, { keyPrefix: 'login', points: 5, durationSeconds: 60 });
    const startedAtMs = performance.now();
    await assert.rejects(limiter.consume('user@example.test'), DependencyUnavailableError);
    assert.ok(performance.now() - startedAtMs < 3000, 'took 3 s or more');
  } finally {
    redis.disconnect();
  }
});

test('a Redis rate limiter whose Redis accepts connections but never answers rejects within 3 s', async () => {
  // A black hole: the TCP handshake succeeds, no reply ever comes. Only the command timeout can end the wait.
  const sockets: Socket[] = [];
  const silentServer = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
  const address = silentServer.address();
  assert.ok(address !== null && typeof address === 'object');
  const redis = createRedisClient({
    url: `redis://127.0.0.1:${address.port}`,
    keyPrefix: `latchkey-test:${uniqueRunId()}:`,
  });
  redis.on('error', () => {});
  try {
    const limiter = createRedisRateLimiter(redis, { keyPrefix: 'login', points: 5, durationSeconds: 60 });
    const startedAtMs = performance.now();
    await assert.rejects(limiter.consume('user@example.test'), DependencyUnavailableError);
    assert.ok(performance.now() - startedAtMs < 3000, 'took 3 s or more');
  } finally {
    redis.disconnect();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silentServer.close(() => resolve()));
  }
});
