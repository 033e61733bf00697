import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DependencyUnavailableError } from '../../src/flows/errors.ts';
import type { Session } from '../../src/flows/model.ts';
import { RedisSessionStore } from '../../src/storage/redis/session-store.ts';
import { MemorySessionStore } from '../../src/storage/memory/session-store.ts';
import { PostgresSessionStore } from '../../src/storage/postgres/session-store.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { testRedisUrl } from '../support/backends.ts';
import { insertTestUser } from '../support/database.ts';
import { withFailingRedisClient, withTestRedis } from '../support/redis.ts';
import type { RedisTarget, TestRedis } from '../support/redis.ts';
import {
  databaseBackends,
  memoryBackend,
  redisBackend,
  throwawayRedisBackends,
  throwawayTopologiesAvailable,
  throwawayTopology,
} from './backends.ts';
import { describeSessionStoreContract } from './session-store.contract.ts';

const redisUrl = testRedisUrl();

/** The Redis store under a fixture's key prefix, on whichever Redis (single, cluster, sentinel) it opened. */
function redisFixture(redis: TestRedis) {
  return {
    store: new RedisSessionStore(redis.client()),
    async storeAsEarlierVersion(session: Session) {
      const record = {
        userId: session.userId,
        email: session.email,
        isActive: session.isActive,
        isVerified: session.isVerified,
        createdAt: session.createdAt.toISOString(),
        expiresAt: session.expiresAt.toISOString(),
      };
      const inspector = redis.inspector();
      await inspector.set(
        `${redis.keyPrefix}session:${session.tokenHash}`,
        JSON.stringify(record),
        'EX',
        3600,
      );
      await inspector.zadd(
        `${redis.keyPrefix}user-sessions:${session.userId}`,
        session.expiresAt.getTime(),
        session.tokenHash,
      );
    },
  };
}

for (const backend of [
  memoryBackend(() => ({ store: new MemorySessionStore() })),
  ...databaseBackends((database) => ({
    store: new PostgresSessionStore(database.db),
    createUserId: () => insertTestUser(database),
    async storeAsEarlierVersion(session: Session) {
      await database.pool.query(
        'INSERT INTO sessions (token_hash, user_id, email, is_active, is_verified, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [
          session.tokenHash,
          session.userId,
          session.email,
          session.isActive,
          session.isVerified,
          session.createdAt,
          session.expiresAt,
        ],
      );
    },
  })),
  ...(redisUrl === undefined ? [] : [redisBackend(redisUrl, redisFixture)]),
  ...throwawayRedisBackends(redisFixture),
]) {
  describeSessionStoreContract(backend.name, () => backend.open());
}

if (redisUrl === undefined) {
  test('SessionStore contract: Redis', { skip: 'TEST_REDIS_URL is not set' }, () => {});
} else {
  describeRedisSessionStore('Redis', async () => redisUrl);
}
if (throwawayTopologiesAvailable()) {
  // On a cluster the session keys and the index live in different slots (most often on different nodes).
  describeRedisSessionStore('Redis Cluster', () => throwawayTopology('cluster'));
}

function describeRedisSessionStore(name: string, target: () => Promise<RedisTarget>): void {
  describe(`RedisSessionStore on ${name}`, () => {
    test('session keys and the user-sessions set expire, the set with the longest session', async () =>
      withTestRedis(await target(), async ({ client, inspector, keyPrefix }) => {
        const store = new RedisSessionStore(client());
        const now = Date.now();
        const userId = crypto.randomUUID();
        const longer = { ...buildSession(userId), expiresAt: new Date(now + 2 * 60 * 60 * 1000) };
        const shorter = { ...buildSession(userId), expiresAt: new Date(now + 10 * 60 * 1000) };
        await store.createSession(longer);
        await store.createSession(shorter);

        const shorterTtlSeconds = await inspector().ttl(`${keyPrefix}session:${shorter.tokenHash}`);
        const setTtlSeconds = await inspector().ttl(`${keyPrefix}user-sessions:${userId}`);
        assert.ok(
          shorterTtlSeconds > 9 * 60 && shorterTtlSeconds <= 10 * 60,
          `session TTL ${shorterTtlSeconds}`,
        );
        assert.ok(setTtlSeconds > 119 * 60 && setTtlSeconds <= 120 * 60, `set TTL ${setTtlSeconds}`);
      }));

    test('the index forgets expired sessions at the next login, so it does not grow without bound', async () =>
      withTestRedis(await target(), async ({ client, inspector, keyPrefix }) => {
        const store = new RedisSessionStore(client());
        const userId = crypto.randomUUID();
        for (let i = 0; i < 5; i++) {
          await store.createSession({ ...buildSession(userId), expiresAt: new Date(Date.now() + 1_000) });
        }
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        const live = buildSession(userId);
        await store.createSession(live);

        assert.deepEqual(await inspector().zrange(`${keyPrefix}user-sessions:${userId}`, '0', '-1'), [
          live.tokenHash,
        ]);
      }));

    test('an index left as a plain set by an earlier version is converted, and revocation still ends every session', async () =>
      withTestRedis(await target(), async (redis) => {
        const store = new RedisSessionStore(redis.client());
        const inspector = redis.inspector();
        const keyPrefix = redis.keyPrefix;
        const userId = crypto.randomUUID();
        const earlier = buildSession(userId);
        await inspector.set(`${keyPrefix}session:${earlier.tokenHash}`, '{}', 'EX', 3600);
        await inspector.sadd(`${keyPrefix}user-sessions:${userId}`, earlier.tokenHash, 'gone');
        const live = buildSession(userId);
        await store.createSession(live);

        assert.deepEqual(
          (await inspector.zrange(`${keyPrefix}user-sessions:${userId}`, '0', '-1')).sort(),
          [earlier.tokenHash, live.tokenHash].sort(),
        );
        await store.deleteUserSessions(userId);
        assert.equal(await inspector.exists(`${keyPrefix}session:${earlier.tokenHash}`), 0);
        assert.equal(await store.findSession(live.tokenHash, new Date()), null);
      }));

    test('logins racing a revocation: every session created before it ends, and every survivor is indexed, so the next revocation ends it', async () =>
      withTestRedis(await target(), async ({ client }) => {
        // Two clients, as two instances: on a cluster their commands reach the nodes in no agreed order.
        const store = new RedisSessionStore(client());
        const racing = new RedisSessionStore(client());
        const userId = crypto.randomUUID();
        const before = Array.from({ length: 10 }, () => buildSession(userId));
        for (const session of before) await store.createSession(session);

        const during = Array.from({ length: 20 }, () => buildSession(userId));
        const logins = Promise.all(during.map((session) => racing.createSession(session)));
        await store.deleteUserSessions(userId);
        for (const session of before) {
          assert.equal(await store.findSession(session.tokenHash, new Date()), null, 'created before: ended');
        }
        await logins;

        const listed = new Set(
          (await store.listUserSessions(userId, new Date())).map((session) => session.tokenHash),
        );
        for (const session of during) {
          if ((await store.findSession(session.tokenHash, new Date())) !== null) {
            assert.ok(listed.has(session.tokenHash), 'a session that survived is in the index');
          }
        }
        await store.deleteUserSessions(userId);
        for (const session of during) {
          assert.equal(await store.findSession(session.tokenHash, new Date()), null);
        }
      }));
  });
}

test('a Redis session store whose Redis is unreachable rejects with DependencyUnavailableError within 3 s', () =>
  withFailingRedisClient('redis://127.0.0.1:1', async (redis) => {
    const store = new RedisSessionStore(redis);
    const startedAtMs = performance.now();
    await assert.rejects(
      store.findSession(hashToken(generateToken()), new Date()),
      DependencyUnavailableError,
    );
    await assert.rejects(store.createSession(buildSession(crypto.randomUUID())), DependencyUnavailableError);
    assert.ok(performance.now() - startedAtMs < 3000, 'took 3 s or more');
  }));

function buildSession(userId: string): Session {
  const now = Date.now();
  return {
    tokenHash: hashToken(generateToken()),
    userId,
    email: 'user@example.test',
    isActive: true,
    isVerified: true,
    createdAt: new Date(now),
    expiresAt: new Date(now + 60 * 60 * 1000),
    lastSeenAt: new Date(now),
    ip: '192.0.2.1',
    userAgent: 'test agent',
  };
}
