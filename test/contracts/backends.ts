import { after } from 'node:test';
import type { Database } from '../../src/storage/postgres/database.ts';
import type { RedisTopology } from '../../src/storage/redis/client.ts';
import { isCi } from '../support/backends.ts';
import { availableDatabaseKinds, openTestDatabase, type DatabaseKind } from '../support/database.ts';
import { openTestRedis, type TestRedis } from '../support/redis.ts';
import { redisServerAvailable } from '../support/throwaway-redis.ts';
import {
  startThrowawayRedisCluster,
  startThrowawayRedisSentinel,
} from '../support/throwaway-redis-topologies.ts';

/** A backend a contract runs on: the name its suite shows and how to open a fixture on it, closed by close(). */
export interface Backend<Fixture> {
  readonly name: string;
  open(): Promise<Fixture & { close(): Promise<void> }>;
}

/** The memory adapters: nothing to open, nothing to close. */
export function memoryBackend<Fixture>(build: () => Fixture): Backend<Fixture> {
  return { name: 'memory', open: async () => ({ ...build(), async close() {} }) };
}

const databaseNames: Record<DatabaseKind, string> = {
  pglite: 'PostgreSQL (embedded PGlite)',
  postgres: 'PostgreSQL',
};

/** Every database engine available (PGlite always, PostgreSQL when configured), each fixture on a migrated, empty database. */
export function databaseBackends<Fixture>(build: (database: Database) => Fixture): Backend<Fixture>[] {
  return availableDatabaseKinds().map((kind) => ({
    name: databaseNames[kind],
    async open() {
      const database = await openTestDatabase(kind);
      return { ...build(database), close: () => database.close() };
    },
  }));
}

/** The test Redis at `url`, each fixture under a key prefix of its own (see openTestRedis). */
export function redisBackend<Fixture>(url: string, build: (redis: TestRedis) => Fixture): Backend<Fixture> {
  return {
    name: 'Redis',
    async open() {
      const redis = openTestRedis(url);
      return { ...build(redis), close: () => redis.close() };
    },
  };
}

/**
 * The same Redis adapters on the other ways to reach Redis, each a topology of the file's own started at its
 * first use and stopped when the file's tests are done: a three-primary Redis Cluster, and a primary + replica
 * under three sentinels. Each fixture gets a key prefix of its own, as on the single Redis. Needs redis-server
 * (and redis-cli); under CI=true a missing one fails the suites instead of leaving them out.
 */
export function throwawayRedisBackends<Fixture>(build: (redis: TestRedis) => Fixture): Backend<Fixture>[] {
  if (!throwawayTopologiesAvailable()) return [];
  return [
    topologyBackend('Redis Cluster (3 primaries)', 'cluster', build),
    topologyBackend('Redis Sentinel (primary, replica, 3 sentinels)', 'sentinel', build),
  ];
}

/** Whether the throwaway topologies can start here (under CI=true they must: a missing redis-server fails). */
export function throwawayTopologiesAvailable(): boolean {
  return redisServerAvailable() || isCi;
}

const topologyStarters = {
  cluster: startThrowawayRedisCluster,
  sentinel: startThrowawayRedisSentinel,
} as const;
const startedTopologies = new Map<
  keyof typeof topologyStarters,
  Promise<{ readonly topology: RedisTopology; close(): Promise<void> }>
>();
after(async () => {
  for (const started of startedTopologies.values()) await (await started).close();
});

/** The file's throwaway topology of that kind, started at the first call and stopped after the file's tests. */
export async function throwawayTopology(kind: keyof typeof topologyStarters): Promise<RedisTopology> {
  let started = startedTopologies.get(kind);
  if (started === undefined) {
    started = topologyStarters[kind]();
    startedTopologies.set(kind, started);
  }
  return (await started).topology;
}

function topologyBackend<Fixture>(
  name: string,
  kind: keyof typeof topologyStarters,
  build: (redis: TestRedis) => Fixture,
): Backend<Fixture> {
  return {
    name,
    async open() {
      const redis = openTestRedis(await throwawayTopology(kind));
      return { ...build(redis), close: () => redis.close() };
    },
  };
}
