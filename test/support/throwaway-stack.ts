import { test, type TestContext } from 'node:test';
import { isCi, testDatabaseUrl, testRedisUrl, uniqueRunId } from './backends.ts';
import { createThrowawayDatabase } from './database.ts';
import { buildLatchkeyEnv, startLatchkey, stopAll, type LatchkeyProcess } from './process.ts';
import { deleteRedisKeys } from './redis.ts';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture.ts';
import {
  findPostgresBinaries,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from './throwaway-postgres.ts';
import { redisServerAvailable, startThrowawayRedis, type ThrowawayRedis } from './throwaway-redis.ts';

/**
 * A suite on a stack runs its rules as subtests of one test, which owns the stack. Each rule keeps the
 * --test-timeout of the command line; this bounds the whole suite.
 */
const suiteTimeoutMilliseconds = 20 * 60_000;

export interface StackOptions {
  /** Names the stack in its secret key (and so apart from any other stack's). */
  readonly name: string;
  /** API instances to start at once, named `instance-a`, `instance-b`, …; default none. */
  readonly instances?: number;
  /** Settings every instance gets on top of (or instead of) buildLatchkeyEnv's. */
  readonly env?: Record<string, string>;
}

/** Where one more process differs from the stack's own settings. */
export interface InstanceSettings {
  readonly role?: 'api' | 'worker';
  readonly port?: number;
  readonly databaseUrl?: string;
  readonly redisKeyPrefix?: string;
  readonly smtpPort?: number;
  /** On top of the stack's `env` option. */
  readonly env?: Record<string, string>;
  /** Without the stack's `env` option: the service's own defaults for what it set. */
  readonly withoutStackEnv?: boolean;
}

/** An SMTP capture, a database, perhaps Redis, and the Latchkey processes started on them. */
export interface Stack {
  readonly smtp: SmtpCapture;
  readonly databaseUrl: string;
  readonly secretKey: string;
  /** The API instances started with the stack (`instances` option). */
  readonly instances: readonly LatchkeyProcess[];
  /** Starts one more Latchkey process on the stack (an API instance unless `role` says worker), stopped with it. */
  startInstance(name: string, settings?: InstanceSettings): Promise<LatchkeyProcess>;
  /** Stops every process started so far (those already stopped included), in parallel. */
  stopInstances(): Promise<void>;
  /** Closes something of the test's (a pool on the stack's database, say) after the processes, before the stack. */
  closeBeforeStack(close: () => Promise<void>): void;
}

/**
 * A redis-server and a PostgreSQL cluster of the test's own, which the test may stop, crash or freeze: the
 * machine's servers are never touched.
 */
export interface ThrowawayStack extends Stack {
  readonly postgres: ThrowawayPostgres;
  readonly redis: ThrowawayRedis;
}

type Closer = () => Promise<void>;

/**
 * Whatever is started through `start` is closed through `t.after`, in reverse order, once the processes have
 * stopped: a stack that fails half-way up is taken down as far as it came.
 */
function takeDownAfter(t: TestContext): { closers: Closer[]; processes: LatchkeyProcess[] } {
  const closers: Closer[] = [];
  const processes: LatchkeyProcess[] = [];
  t.after(async () => {
    await stopAll(processes);
    for (const close of closers.reverse()) await close();
  });
  return { closers, processes };
}

async function assembleStack(
  taken: { closers: Closer[]; processes: LatchkeyProcess[] },
  servers: { databaseUrl: string; redisUrl?: string; redisKeyPrefix?: string },
  options: StackOptions,
): Promise<Stack> {
  const smtp = await startSmtpCapture();
  taken.closers.push(() => smtp.stop());
  const secretKey = `${options.name}-${uniqueRunId()}-${uniqueRunId()}`;

  async function startInstance(name: string, settings: InstanceSettings = {}): Promise<LatchkeyProcess> {
    const redisKeyPrefix = settings.redisKeyPrefix ?? servers.redisKeyPrefix;
    const env = buildLatchkeyEnv({
      databaseUrl: settings.databaseUrl ?? servers.databaseUrl,
      ...(servers.redisUrl === undefined ? {} : { redisUrl: servers.redisUrl }),
      ...(redisKeyPrefix === undefined ? {} : { redisKeyPrefix }),
      smtpPort: settings.smtpPort ?? smtp.port,
      secretKey,
      extra: {
        ...(settings.withoutStackEnv === true ? {} : options.env),
        ...settings.env,
        ...(settings.port === undefined ? {} : { PORT: String(settings.port) }),
      },
    });
    const started = await startLatchkey({ name, env, role: settings.role ?? 'api' });
    taken.processes.push(started);
    return started;
  }

  const letters = 'abcdefghij'.slice(0, options.instances ?? 0);
  const instances = await Promise.all([...letters].map((letter) => startInstance(`instance-${letter}`)));
  return {
    smtp,
    databaseUrl: servers.databaseUrl,
    secretKey,
    instances,
    startInstance,
    stopInstances: () => stopAll(taken.processes),
    closeBeforeStack: (close) => void taken.closers.push(close),
  };
}

/** A throwaway redis-server and PostgreSQL cluster, an SMTP capture and Latchkey processes, all gone at t.after. */
export async function startThrowawayStack(t: TestContext, options: StackOptions): Promise<ThrowawayStack> {
  const taken = takeDownAfter(t);
  const postgres = await startThrowawayPostgres();
  taken.closers.push(() => postgres.close());
  const redis = await startThrowawayRedis();
  taken.closers.push(() => redis.close());
  const stack = await assembleStack(taken, { databaseUrl: postgres.url, redisUrl: redis.url }, options);
  return { ...stack, postgres, redis };
}

/**
 * The same on the machine's servers (TEST_DATABASE_URL, and TEST_REDIS_URL with `redis`): a database and a
 * key prefix of the stack's own, dropped and deleted at t.after. Without `redis`, sessions live in PostgreSQL.
 */
export async function startSharedServerStack(
  t: TestContext,
  options: StackOptions & { readonly redis: boolean },
): Promise<Stack> {
  const taken = takeDownAfter(t);
  const database = await createThrowawayDatabase();
  taken.closers.push(() => database.drop());
  if (!options.redis) return assembleStack(taken, { databaseUrl: database.url }, options);
  const redisUrl = testRedisUrl() ?? '';
  const redisKeyPrefix = `latchkey-test-${uniqueRunId()}:`;
  taken.closers.push(() => deleteRedisKeys(redisUrl, redisKeyPrefix));
  return assembleStack(taken, { databaseUrl: database.url, redisUrl, redisKeyPrefix }, options);
}

/**
 * A suite whose rules share one throwaway stack: `body` gets the stack and runs each rule as `t.test`; the
 * stack goes down when the suite ends, whatever happened. Under CI=true missing server binaries fail the suite
 * instead of skipping it.
 */
export function testOnThrowawayStack(
  title: string,
  options: StackOptions,
  body: (t: TestContext, stack: ThrowawayStack) => Promise<void>,
): void {
  const serversMissing = !redisServerAvailable() || findPostgresBinaries() === null;
  const skip = serversMissing && !isCi ? 'needs redis-server and PostgreSQL server binaries' : false;
  test(title, { skip, timeout: suiteTimeoutMilliseconds }, async (t) =>
    body(t, await startThrowawayStack(t, options)),
  );
}

/** The same on the machine's servers; skipped when they are not configured (never under CI=true). */
export function testOnSharedServers(
  title: string,
  options: StackOptions & { readonly redis: boolean },
  body: (t: TestContext, stack: Stack) => Promise<void>,
): void {
  const configured = testDatabaseUrl() !== undefined && (!options.redis || testRedisUrl() !== undefined);
  const skip = configured
    ? false
    : options.redis
      ? 'needs TEST_DATABASE_URL and TEST_REDIS_URL'
      : 'needs TEST_DATABASE_URL';
  test(title, { skip, timeout: suiteTimeoutMilliseconds }, async (t) =>
    body(t, await startSharedServerStack(t, options)),
  );
}
