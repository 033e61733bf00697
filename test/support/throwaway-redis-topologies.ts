import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisTopology } from '../../src/storage/redis/client.ts';
import { isCi, testDatabaseUrl } from './backends.ts';
import { registerExitCleanup, spawnTracked, stopChild } from './children.ts';
import { findFreePort } from './ports.ts';
import { redisServerArguments, redisServerAvailable } from './throwaway-redis.ts';
import { waitUntil } from './wait.ts';

/*
 * Redis topologies of the test's own, from redis-server on free ports in a temporary folder: a three-primary
 * Redis Cluster, and a primary with a replica watched by three sentinels. The machine's Redis is never touched;
 * close() kills every process and removes the folder (and so does the test process exiting).
 */

const host = '127.0.0.1';
const startTimeoutMilliseconds = 20_000;

/** One redis-server (or sentinel) process of a topology. */
interface RedisProcess {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
}

async function spawnRedisServer(
  port: number,
  args: readonly string[],
  password?: string,
): Promise<RedisProcess> {
  let log = '';
  const child = spawnTracked('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer): void => void (log = (log + chunk.toString()).slice(-4_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const process = { port, child, output: () => log };
  await waitUntil(`redis-server answers PING on ${port}`, () => answersPing(port, password), {
    timeoutMilliseconds: startTimeoutMilliseconds,
    intervalMilliseconds: 50,
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nredis-server output:\n${log}`);
  });
  return process;
}

async function answersPing(port: number, password: string | undefined): Promise<boolean> {
  return (await sendCommand(port, ['PING'], password).catch(() => null)) === 'PONG';
}

/** One command on a short-lived connection that never retries, so nothing waits on a dead server. */
export async function sendCommand(
  port: number,
  command: readonly (string | number)[],
  password?: string,
): Promise<unknown> {
  const redis = new Redis({
    host,
    port,
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const [name, ...args] = command;
    return await redis.call(String(name), ...args);
  } finally {
    redis.disconnect();
  }
}

/** Folder and processes of a topology, undone in reverse at close() or when the test process exits. */
function createWorkspace(label: string): {
  readonly dir: string;
  readonly processes: RedisProcess[];
  close(): Promise<void>;
} {
  const dir = mkdtempSync(join(tmpdir(), `latchkey-${label}-`));
  const removeFolder = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = registerExitCleanup(removeFolder);
  const processes: RedisProcess[] = [];
  return {
    dir,
    processes,
    async close() {
      await Promise.all(processes.map(({ child }) => stopChild(child, 'SIGKILL', 5_000)));
      removeFolder();
      unregister();
    },
  };
}

function serverArguments(port: number, dir: string, extra: readonly string[]): string[] {
  return [...redisServerArguments(port), '--dir', dir, ...extra];
}

/** Why the suites on throwaway topologies with PostgreSQL cannot run here, or undefined when they can. */
export function topologySuitesMissing(): string | undefined {
  if (testDatabaseUrl() === undefined) return 'needs TEST_DATABASE_URL';
  if (!redisServerAvailable() && !isCi) return 'needs redis-server';
  return undefined;
}

/** The variables that point Latchkey at a topology (REDIS_URL left unset). */
export function latchkeyRedisEnvironment(topology: RedisTopology, password?: string): Record<string, string> {
  const secrets: Record<string, string> = {
    ...(password === undefined ? {} : { REDIS_PASSWORD: password }),
    ...(topology.kind === 'sentinel' && topology.sentinelPassword !== undefined
      ? { REDIS_SENTINEL_PASSWORD: topology.sentinelPassword }
      : {}),
  };
  return { ...secrets, ...topologyEnvironment(topology) };
}

function topologyEnvironment(topology: RedisTopology): Record<string, string> {
  const list = (nodes: readonly { host: string; port: number }[]): string =>
    nodes.map((node) => `${node.host}:${node.port}`).join(',');
  switch (topology.kind) {
    case 'url':
      return { REDIS_URL: topology.url };
    case 'cluster':
      return { REDIS_URL: '', REDIS_CLUSTER_NODES: list(topology.nodes) };
    case 'sentinel':
      return { REDIS_URL: '', REDIS_SENTINELS: list(topology.sentinels), REDIS_SENTINEL_NAME: topology.name };
  }
}

// ---- Redis Cluster ----

/** Passwords of a topology: the data nodes' (`requirepass`, `masterauth`) and the sentinels' own. */
export interface TopologyPasswords {
  readonly password?: string;
  readonly sentinelPassword?: string;
}

function authArguments(password: string | undefined): string[] {
  return password === undefined ? [] : ['--requirepass', password, '--masterauth', password];
}

export interface ThrowawayRedisCluster {
  readonly topology: RedisTopology & { readonly kind: 'cluster' };
  readonly password: string | undefined;
  readonly ports: readonly number[];
  close(): Promise<void>;
}

/** Three primaries (no replicas) holding the 16384 slots between them, formed by `redis-cli --cluster create`. */
export async function startThrowawayRedisCluster(
  passwords: TopologyPasswords = {},
): Promise<ThrowawayRedisCluster> {
  const password = passwords.password;
  const workspace = createWorkspace('redis-cluster');
  try {
    for (let node = 0; node < 3; node++) {
      const port = await findFreePort();
      // The cluster bus gets a free port of its own: port + 10000 may be taken, or beyond 65535.
      const busPort = await findFreePort();
      const nodeDir = join(workspace.dir, String(port));
      mkdirSync(nodeDir);
      workspace.processes.push(
        await spawnRedisServer(
          port,
          serverArguments(port, nodeDir, [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            join(nodeDir, 'nodes.conf'),
            '--cluster-node-timeout',
            '2000',
            ...authArguments(password),
          ]),
          password,
        ),
      );
    }
    const ports = workspace.processes.map(({ port }) => port);
    await runRedisCli([
      ...(password === undefined ? [] : ['-a', password, '--no-auth-warning']),
      '--cluster',
      'create',
      ...ports.map((port) => `${host}:${port}`),
      '--cluster-yes',
    ]);
    await waitUntil(
      'every node of the throwaway cluster says cluster_state:ok',
      async () => {
        for (const port of ports) {
          const info = String(await sendCommand(port, ['CLUSTER', 'INFO'], password));
          if (!info.includes('cluster_state:ok')) return false;
        }
        return true;
      },
      { timeoutMilliseconds: startTimeoutMilliseconds, intervalMilliseconds: 100 },
    );
    return {
      topology: { kind: 'cluster', nodes: ports.map((port) => ({ host, port })) },
      password,
      ports,
      close: () => workspace.close(),
    };
  } catch (error) {
    await workspace.close();
    throw error;
  }
}

function runRedisCli(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-cli ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

// ---- Sentinel ----

/** The sentinels' settings: the failover times measured in test/faults/redis-failover.test.ts follow from them. */
export const sentinelSettings = {
  name: 'latchkey',
  quorum: 2,
  downAfterMilliseconds: 1_000,
  failoverTimeoutMilliseconds: 10_000,
} as const;

export interface ThrowawayRedisSentinel {
  readonly topology: RedisTopology & { readonly kind: 'sentinel' };
  readonly password: string | undefined;
  /** The port of the primary the sentinels name now. */
  primaryPort(): Promise<number>;
  /** SIGKILLs the current primary (a crash: whatever it had not yet sent its replica is lost); returns its port. */
  killPrimary(): Promise<number>;
  /** Resolves once the sentinels name a primary other than `formerPort` and it answers as a primary. */
  waitForNewPrimary(formerPort: number, timeoutMilliseconds: number): Promise<number>;
  close(): Promise<void>;
}

/** A primary and its replica, watched by three sentinels (quorum 2), with `sentinelSettings`. */
export async function startThrowawayRedisSentinel(
  passwords: TopologyPasswords = {},
): Promise<ThrowawayRedisSentinel> {
  const { password, sentinelPassword } = passwords;
  const workspace = createWorkspace('redis-sentinel');
  try {
    const primaryPort = await findFreePort();
    const primary = await spawnRedisServer(
      primaryPort,
      serverArguments(primaryPort, workspace.dir, authArguments(password)),
      password,
    );
    workspace.processes.push(primary);
    const replicaPort = await findFreePort();
    const replicaDir = join(workspace.dir, 'replica');
    mkdirSync(replicaDir);
    workspace.processes.push(
      await spawnRedisServer(
        replicaPort,
        serverArguments(replicaPort, replicaDir, [
          '--replicaof',
          host,
          String(primaryPort),
          ...authArguments(password),
        ]),
        password,
      ),
    );
    const sentinelPorts: number[] = [];
    for (let index = 0; index < 3; index++) {
      const port = await findFreePort();
      const sentinelDir = join(workspace.dir, `sentinel-${index}`);
      mkdirSync(sentinelDir);
      // A sentinel rewrites its configuration file as it learns the topology: it must be its own, writable.
      const configFile = join(sentinelDir, 'sentinel.conf');
      writeFileSync(
        configFile,
        [
          `port ${port}`,
          `bind ${host}`,
          `dir ${sentinelDir}`,
          `sentinel monitor ${sentinelSettings.name} ${host} ${primaryPort} ${sentinelSettings.quorum}`,
          `sentinel down-after-milliseconds ${sentinelSettings.name} ${sentinelSettings.downAfterMilliseconds}`,
          `sentinel failover-timeout ${sentinelSettings.name} ${sentinelSettings.failoverTimeoutMilliseconds}`,
          `sentinel parallel-syncs ${sentinelSettings.name} 1`,
          ...(password === undefined ? [] : [`sentinel auth-pass ${sentinelSettings.name} ${password}`]),
          ...(sentinelPassword === undefined
            ? []
            : [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`]),
          '',
        ].join('\n'),
      );
      workspace.processes.push(
        await spawnRedisServer(
          port,
          [configFile, '--sentinel', '--daemonize', 'no', '--loglevel', 'warning'],
          sentinelPassword,
        ),
      );
      sentinelPorts.push(port);
    }

    await waitUntil(
      'the replica is in sync and every sentinel knows the replica and the two other sentinels',
      async () => {
        const replication = String(await sendCommand(replicaPort, ['INFO', 'replication'], password));
        if (!replication.includes('master_link_status:up')) return false;
        for (const port of sentinelPorts) {
          const replicas = (await sendCommand(
            port,
            ['SENTINEL', 'REPLICAS', sentinelSettings.name],
            sentinelPassword,
          )) as unknown[];
          const sentinels = (await sendCommand(
            port,
            ['SENTINEL', 'SENTINELS', sentinelSettings.name],
            sentinelPassword,
          )) as unknown[];
          if (replicas.length < 1 || sentinels.length < 2) return false;
        }
        return true;
      },
      { timeoutMilliseconds: 30_000, intervalMilliseconds: 200 },
    );

    async function currentPrimaryPort(): Promise<number> {
      for (const port of sentinelPorts) {
        const answer = await sendCommand(
          port,
          ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinelSettings.name],
          sentinelPassword,
        ).catch(() => null);
        if (Array.isArray(answer) && answer.length === 2) return Number(answer[1]);
      }
      throw new Error('no sentinel names a primary');
    }

    return {
      topology: {
        kind: 'sentinel',
        sentinels: sentinelPorts.map((port) => ({ host, port })),
        name: sentinelSettings.name,
        sentinelPassword,
      },
      password,
      primaryPort: currentPrimaryPort,
      async killPrimary() {
        const port = await currentPrimaryPort();
        const server = workspace.processes.find((candidate) => candidate.port === port);
        if (server === undefined)
          throw new Error(`the primary on ${port} is not one of the throwaway servers`);
        await stopChild(server.child, 'SIGKILL', 5_000);
        return port;
      },
      async waitForNewPrimary(formerPort, timeoutMilliseconds) {
        return waitUntil(
          `the sentinels name a new primary instead of ${formerPort}`,
          async () => {
            const port = await currentPrimaryPort();
            if (port === formerPort) return 0;
            const role = (await sendCommand(port, ['ROLE'], password)) as unknown[];
            return role[0] === 'master' ? port : 0;
          },
          { timeoutMilliseconds, intervalMilliseconds: 50 },
        );
      },
      close: () => workspace.close(),
    };
  } catch (error) {
    await workspace.close();
    throw error;
  }
}
