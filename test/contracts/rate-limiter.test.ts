import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { RedisClient } from '../../src/storage/redis/client.ts';
import { DependencyUnavailableError } from '../../src/flows/errors.ts';
import { createMemoryRateLimiter } from '../../src/storage/memory/rate-limiter.ts';
import { createRedisRateLimiter } from '../../src/storage/redis/rate-limiter.ts';
import { testRedisUrl } from '../support/backends.ts';
import { withFailingRedisClient, withTestRedis } from '../support/redis.ts';
import { memoryBackend, redisBackend, throwawayRedisBackends } from './backends.ts';
import { describeRateLimiterContract, type RateLimiterStoreUnderTest } from './rate-limiter.contract.ts';

type LimiterStore = Omit<RateLimiterStoreUnderTest, 'close'>;

const redisUrl = testRedisUrl();

const memory = memoryBackend<LimiterStore>(() => ({
  createLimiter: (budget) => createMemoryRateLimiter(budget),
}));
describeRateLimiterContract(memory.name, () => memory.open(), { sharedAcrossInstances: false });

for (const backend of throwawayRedisBackends<LimiterStore>(({ client }) => ({
  createLimiter: (budget) => createRedisRateLimiter(client(), budget),
}))) {
  describeRateLimiterContract(backend.name, () => backend.open(), { sharedAcrossInstances: true });
}

if (redisUrl === undefined) {
  test('RateLimiter contract: Redis', { skip: 'TEST_REDIS_URL is not set' }, () => {});
} else {
  // Each limiter gets its own client, as each service instance would have.
  const redis = redisBackend<LimiterStore>(redisUrl, ({ client }) => ({
    createLimiter: (budget) => createRedisRateLimiter(client(), budget),
  }));
  describeRateLimiterContract(redis.name, () => redis.open(), { sharedAcrossInstances: true });

  describe('Redis rate limiter', () => {
    test('a budget key expires with its window, so keys never pile up', () =>
      withTestRedis(redisUrl, async ({ client, inspector, keyPrefix }) => {
        const limiter = createRedisRateLimiter(client(), {
          keyPrefix: 'login',
          points: 5,
          durationSeconds: 60,
        });
        await limiter.consume('user@example.test');

        const ttlSeconds = await inspector().ttl(`${keyPrefix}login:user@example.test`);
        assert.ok(ttlSeconds > 0 && ttlSeconds <= 60, `TTL ${ttlSeconds}`);
      }));
  });
}

/** A limiter on a Redis that cannot answer gives up with DependencyUnavailableError in under 3 s. */
async function assertGivesUpWithin3s(redis: RedisClient): Promise<void> {
  const limiter = createRedisRateLimiter(redis, { keyPrefix: 'login', points: 5, durationSeconds: 60 });
  const startedAtMs = performance.now();
  await assert.rejects(limiter.consume('user@example.test'), DependencyUnavailableError);
  assert.ok(performance.now() - startedAtMs < 3000, 'took 3 s or more');
}

test('a Redis rate limiter whose Redis is unreachable rejects with DependencyUnavailableError within 3 s', () =>
  withFailingRedisClient('redis://127.0.0.1:1', assertGivesUpWithin3s));

test('a Redis rate limiter whose Redis accepts connections but never answers rejects within 3 s', async () => {
  // A black hole: the TCP handshake succeeds, no reply ever comes. Only the command timeout can end the wait.
  const sockets: Socket[] = [];
  const silentServer = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
  const address = silentServer.address();
  assert.ok(address !== null && typeof address === 'object');
  try {
    await withFailingRedisClient(`redis://127.0.0.1:${address.port}`, assertGivesUpWithin3s);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silentServer.close(() => resolve()));
  }
});
