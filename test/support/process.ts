import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { spawnTracked, stopChild, waitForChildExit, type ChildExit } from './children.ts';
import { findFreePort } from './ports.ts';
import { waitUntil } from './wait.ts';

const scripts = {
  api: fileURLToPath(new URL('../../src/main.ts', import.meta.url)),
  worker: fileURLToPath(new URL('../../src/worker.ts', import.meta.url)),
};

/** Start-up includes the migrations under an advisory lock, so several processes starting at once queue. */
const defaultStartTimeoutMilliseconds = 60_000;
/** The service's own shutdown gives up after 15 s; a little more before the test kills it. */
const defaultStopTimeoutMilliseconds = 20_000;

/** One real Latchkey process (`node src/main.ts` or `node src/worker.ts`), as a test drives it. */
export interface LatchkeyProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The HTTP port (API processes; workers only with WORKER_HEALTH_PORT). */
  readonly port: number | undefined;
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** performance.now() when it was spawned. */
  readonly spawnedAt: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Its JSON log lines so far, parsed; other lines are skipped. */
  logRecords(): Record<string, unknown>[];
  waitForOutput(pattern: RegExp, timeoutMilliseconds?: number): Promise<RegExpExecArray>;
  /** Resolves once /health/live answers 200; fails at once if the process exits. */
  waitUntilLive(timeoutMilliseconds?: number): Promise<void>;
  hasExited(): boolean;
  readonly exited: Promise<ChildExit>;
  /** SIGTERM (or `signal`), wait for the exit, SIGKILL after the timeout (`forced` is then true). */
  stop(options?: {
    signal?: NodeJS.Signals;
    timeoutMilliseconds?: number;
  }): Promise<ChildExit & { readonly forced: boolean }>;
  /** kill -9, and wait for it to be gone. */
  kill(): Promise<ChildExit>;
}

export interface StartOptions {
  readonly env: Record<string, string>;
  readonly role?: 'api' | 'worker';
  readonly name?: string;
  /** Wait until it is live (API: /health/live; worker: its start-up log line). Default true. */
  readonly waitUntilReady?: boolean;
  readonly startTimeoutMilliseconds?: number;
  /** Another entry point than the role's (an absolute path), run the same way. */
  readonly script?: string;
  /** Flags for node before the script (those of `npm start`, say). */
  readonly nodeFlags?: readonly string[];
  /** The path whose 200 means live; default /health/live. */
  readonly livenessPath?: string;
  /** How often liveness is polled while starting; default 100 ms. */
  readonly pollMilliseconds?: number;
  /** Also append stdout and stderr to this file. */
  readonly logPath?: string;
  /** Keep stdout and stderr in memory for output() and logRecords(); default true. */
  readonly keepOutput?: boolean;
}

/**
 * Spawns Latchkey with exactly `env` (plus PATH), in a neutral working directory so that no `.env` file of
 * the developer's leaks in. An API process without PORT gets a free one. The process is SIGKILLed if the test
 * process exits first.
 */
export async function startLatchkey(options: StartOptions): Promise<LatchkeyProcess> {
  const role = options.role ?? 'api';
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...options.env };
  if (role === 'api' && env.PORT === undefined) env.PORT = String(await findFreePort());
  const portText = role === 'api' ? env.PORT : env.WORKER_HEALTH_PORT;
  const port = portText === undefined ? undefined : Number(portText);
  const name = options.name ?? `${role}${port === undefined ? '' : `:${port}`}`;
  const livenessPath = options.livenessPath ?? '/health/live';

  const spawnedAt = performance.now();
  const child = spawnTracked(
    process.execPath,
    [...(options.nodeFlags ?? []), options.script ?? scripts[role]],
    { env, cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const log = options.logPath === undefined ? undefined : createWriteStream(options.logPath, { flags: 'a' });
  const keepOutput = options.keepOutput !== false;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      if (keepOutput) output += chunk.toString();
      log?.write(chunk);
    });
  }
  if (log !== undefined) child.once('close', () => log.end());
  const exited = waitForChildExit(child);
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const describe = (): string =>
    `${name} (pid ${child.pid}) output:\n${keepOutput ? output.slice(-8_000) : `see ${options.logPath}`}`;

  const started: LatchkeyProcess = {
    name,
    child,
    port,
    baseUrl: `http://127.0.0.1:${port ?? 0}`,
    spawnedAt,
    output: () => output,
    logRecords() {
      const records: Record<string, unknown>[] = [];
      for (const line of output.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          records.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // a line cut in the middle of a write
        }
      }
      return records;
    },
    async waitForOutput(pattern, timeoutMilliseconds = 10_000) {
      try {
        return await waitUntil(`${name} prints ${pattern}`, () => pattern.exec(output), {
          timeoutMilliseconds,
        });
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${describe()}`, { cause: error });
      }
    },
    async waitUntilLive(timeoutMilliseconds = defaultStartTimeoutMilliseconds) {
      try {
        const outcome = await waitUntil(
          `${name} answers ${livenessPath}`,
          async () => {
            // Not an exception: waitUntil would take it for one more failed try and poll on.
            if (hasExited()) return 'exited';
            try {
              const response = await fetch(`${started.baseUrl}${livenessPath}`, {
                signal: AbortSignal.timeout(1_000),
              });
              await response.arrayBuffer();
              return response.ok ? 'live' : false;
            } catch {
              return false;
            }
          },
          { timeoutMilliseconds, intervalMilliseconds: options.pollMilliseconds ?? 100 },
        );
        if (outcome === 'exited') throw new Error(`exited early with ${JSON.stringify(await exited)}`);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${describe()}`, { cause: error });
      }
    },
    hasExited,
    exited,
    stop: (stopOptions = {}) =>
      stopChild(
        child,
        stopOptions.signal ?? 'SIGTERM',
        stopOptions.timeoutMilliseconds ?? defaultStopTimeoutMilliseconds,
      ),
    async kill() {
      if (!hasExited()) child.kill('SIGKILL');
      return exited;
    },
  };

  if (options.waitUntilReady !== false) {
    const timeout = options.startTimeoutMilliseconds ?? defaultStartTimeoutMilliseconds;
    try {
      if (role === 'api') await started.waitUntilLive(timeout);
      else await started.waitForOutput(/Latchkey worker is running/, timeout);
    } catch (error) {
      await started.kill();
      throw error;
    }
  }
  return started;
}

/** Stops every process given, in parallel, whatever state each is in; for `after` hooks. */
export async function stopAll(processes: Iterable<LatchkeyProcess>): Promise<void> {
  await Promise.all([...processes].map((running) => running.stop({ timeoutMilliseconds: 5_000 })));
}

/** The settings every multi-process suite shares: test mode, plain local SMTP, quick polling, JSON logs. */
export function buildLatchkeyEnv(settings: {
  readonly databaseUrl: string;
  readonly redisUrl?: string;
  readonly redisKeyPrefix?: string;
  readonly smtpPort: number;
  readonly secretKey: string;
  readonly extra?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    DATABASE_URL: settings.databaseUrl,
    ...(settings.redisUrl === undefined ? {} : { REDIS_URL: settings.redisUrl }),
    ...(settings.redisKeyPrefix === undefined ? {} : { REDIS_KEY_PREFIX: settings.redisKeyPrefix }),
    SECRET_KEY: settings.secretKey,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(settings.smtpPort),
    SMTP_SECURE: 'none',
    FROM_EMAIL: 'Latchkey <noreply@latchkey.test>',
    EMAIL_DISPATCH_POLL_MS: '200',
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'info',
    ...settings.extra,
  };
}
