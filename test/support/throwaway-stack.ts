import { test, type TestContext } from 'node:test';
import { isCi, uniqueRunId } from './backends.ts';
import { buildLatchkeyEnv, startLatchkey, stopAll, type LatchkeyProcess } from './process.ts';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture.ts';
import {
  findPostgresBinaries,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from './throwaway-postgres.ts';
import { redisServerAvailable, startThrowawayRedis, type ThrowawayRedis } from './throwaway-redis.ts';

/**
 * Why a suite on a throwaway stack cannot run here, or false. Under CI=true it always runs, so missing server
 * binaries fail the suite instead of skipping it.
 */
const skipReason: string | false =
  (!redisServerAvailable() || findPostgresBinaries() === null) && !isCi
    ? 'needs redis-server and PostgreSQL server binaries'
    : false;

/**
 * A suite on a throwaway stack runs its rules as subtests of one test, which owns the stack. Each rule keeps
 * the --test-timeout of the command line; this bounds the whole suite.
 */
const suiteTimeoutMilliseconds = 20 * 60_000;

export interface ThrowawayStackOptions {
  /** Names the stack in its secret key (and so apart from any other stack's). */
  readonly name: string;
  /** API instances to start at once, named `instance-a`, `instance-b`, …; default none. */
  readonly instances?: number;
  /** Settings every instance gets on top of (or instead of) buildLatchkeyEnv's. */
  readonly env?: Record<string, string>;
}

/** Where one more instance differs from the stack's own settings. */
export interface InstanceSettings {
  readonly port?: number;
  readonly databaseUrl?: string;
  readonly redisKeyPrefix?: string;
  readonly smtpPort?: number;
  /** In place of the stack's `env` option. */
  readonly env?: Record<string, string>;
}

/**
 * A redis-server, a PostgreSQL cluster and an SMTP capture of the test's own, and the Latchkey processes
 * started on them; everything is stopped and removed through the test's `t.after`, whatever the test did.
 */
export interface ThrowawayStack {
  readonly postgres: ThrowawayPostgres;
  readonly redis: ThrowawayRedis;
  readonly smtp: SmtpCapture;
  readonly secretKey: string;
  /** The instances started with the stack (`instances` option). */
  readonly instances: readonly LatchkeyProcess[];
  /** Starts one more API instance on the stack, stopped with it. */
  startInstance(name: string, settings?: InstanceSettings): Promise<LatchkeyProcess>;
  /** Stops every instance started so far (those already stopped included), in parallel. */
  stopInstances(): Promise<void>;
}

export async function startThrowawayStack(
  t: TestContext,
  options: ThrowawayStackOptions,
): Promise<ThrowawayStack> {
  const closers: (() => Promise<void>)[] = [];
  const processes: LatchkeyProcess[] = [];
  // Registered first, so that a stack that fails half-way up is taken down as far as it came.
  t.after(async () => {
    await stopAll(processes);
    for (const close of closers.reverse()) await close();
  });

  const postgres = await startThrowawayPostgres();
  closers.push(() => postgres.close());
  const redis = await startThrowawayRedis();
  closers.push(() => redis.close());
  const smtp = await startSmtpCapture();
  closers.push(() => smtp.stop());
  const secretKey = `${options.name}-${uniqueRunId()}-${uniqueRunId()}`;

  async function startInstance(name: string, settings: InstanceSettings = {}): Promise<LatchkeyProcess> {
    const env = buildLatchkeyEnv({
      databaseUrl: settings.databaseUrl ?? postgres.url,
      redisUrl: redis.url,
      ...(settings.redisKeyPrefix === undefined ? {} : { redisKeyPrefix: settings.redisKeyPrefix }),
      smtpPort: settings.smtpPort ?? smtp.port,
      secretKey,
      extra: {
        ...(settings.env ?? options.env),
        ...(settings.port === undefined ? {} : { PORT: String(settings.port) }),
      },
    });
    const started = await startLatchkey({ name, env });
    processes.push(started);
    return started;
  }

  const names = Array.from({ length: options.instances ?? 0 }, (_, index) =>
    String.fromCharCode('a'.charCodeAt(0) + index),
  );
  const instances = await Promise.all(names.map((letter) => startInstance(`instance-${letter}`)));
  return {
    postgres,
    redis,
    smtp,
    secretKey,
    instances,
    startInstance,
    stopInstances: () => stopAll(processes),
  };
}

/**
 * A suite whose rules share one throwaway stack: `body` gets the stack and runs each rule as `t.test`; the
 * stack goes down when the suite ends, whatever happened.
 */
export function testOnThrowawayStack(
  title: string,
  options: ThrowawayStackOptions,
  body: (t: TestContext, stack: ThrowawayStack) => Promise<void>,
): void {
  test(title, { skip: skipReason, timeout: suiteTimeoutMilliseconds }, async (t) =>
    body(t, await startThrowawayStack(t, options)),
  );
}
