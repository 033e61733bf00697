// `npm run bench`: Latchkey under load, in production mode on the machine's PostgreSQL and Redis.
// See docs/performance.md for what each scenario means and for the figures of the last run.
//
//   npm run bench -- [--runs 3] [--duration 10] [--connections 50] [--workers N] [--scenarios a,b]
//                    [--node-options "--flag ..."] [--env KEY=VALUE] [--json FILE] [--no-lock]
//                    [--no-embedded-start] [--help]
//
// Each run starts a fresh service (its own database and Redis key prefix, both removed afterwards), prepares
// verified users through the real HTTP + mail flow, measures the argon2id ceiling of the machine, then runs
// the scenarios one after the other with autocannon. The table shows the medians over the runs.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThrowawayDatabase } from '../test/support/database.ts';
import { findFreePort } from '../test/support/ports.ts';
import { deleteRedisKeys } from '../test/support/redis.ts';
import { checkFlow, prepareUser, startBenchMail, type BenchMail } from './journey.ts';
import { median, medianRows, printTable, type Row, type RunSummary } from './report.ts';
import { measureScenario, scenarioNames, scenarios, type Measured, type Scenario } from './scenarios.ts';
import { repositoryRoot, startService, type RunningService } from './service.ts';
import { sampleResidentMemory, startCpuAccounting, waitUntilIdle } from './usage.ts';

interface Options {
  runs: number;
  durationSeconds: number;
  connections: number;
  workers: string | undefined;
  /** NODE_OPTIONS for the service, e.g. V8 heap flags to compare. */
  nodeOptions: string | undefined;
  /** Extra settings for the service (`--env KEY=VALUE`, repeatable), to compare a setting against the default. */
  extraEnv: Record<string, string>;
  scenarios: string[];
  jsonPath: string | undefined;
  lock: boolean;
  embeddedStart: boolean;
}

const lockPath = '/tmp/bench.lock';
const adminDatabaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const usage = `npm run bench -- [options]
  --runs N              runs, each on a fresh service; the table shows medians (default 3)
  --duration S          seconds per scenario (default 10)
  --connections C       autocannon connections (default 50)
  --workers N           the service's WORKERS
  --scenarios a,b       which scenarios, in this order (default: all of them)
  --node-options "..."  the service's NODE_OPTIONS
  --env KEY=VALUE       a setting for the service, repeatable
  --json FILE           also write every row, per run
  --no-lock             do not hold /tmp/bench.lock
  --no-embedded-start   skip the embedded-mode start-up measurement
scenarios: ${scenarioNames.join(', ')}
what each one measures: docs/performance.md`;

const options = parseOptions(process.argv.slice(2));
if (options.lock && process.env.LATCHKEY_BENCH_LOCKED !== '1') runUnderLock();
await main(options);

/** Re-runs this script under `flock /tmp/bench.lock`, so benchmarks on this machine never overlap. */
function runUnderLock(): never {
  const result = spawnSync(
    'flock',
    [lockPath, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, LATCHKEY_BENCH_LOCKED: '1' } },
  );
  if (result.error !== undefined) {
    process.stderr.write(`flock is not available (${result.error.message}); running without the lock\n`);
    process.env.LATCHKEY_BENCH_LOCKED = '1';
    const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, LATCHKEY_BENCH_LOCKED: '1' },
    });
    process.exit(again.status ?? 1);
  }
  process.exit(result.status ?? 1);
}

function parseOptions(args: string[]): Options {
  const parsed: Options = {
    runs: 3,
    durationSeconds: 10,
    connections: 50,
    workers: undefined,
    nodeOptions: undefined,
    extraEnv: {},
    scenarios: [...scenarioNames],
    jsonPath: undefined,
    lock: true,
    embeddedStart: true,
  };
  for (let i = 0; i < args.length; i++) {
    const name = args[i];
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new Error(`${name} needs a value`);
      return next;
    };
    if (name === '--help' || name === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else if (name === '--runs') parsed.runs = Number(value());
    else if (name === '--duration') parsed.durationSeconds = Number(value());
    else if (name === '--connections') parsed.connections = Number(value());
    else if (name === '--workers') parsed.workers = value();
    else if (name === '--node-options') parsed.nodeOptions = value();
    else if (name === '--env') {
      const setting = value();
      const equals = setting.indexOf('=');
      if (equals < 1) throw new Error(`--env takes KEY=VALUE, got ${setting}`);
      parsed.extraEnv[setting.slice(0, equals)] = setting.slice(equals + 1);
    } else if (name === '--json') parsed.jsonPath = value();
    else if (name === '--no-lock') parsed.lock = false;
    else if (name === '--no-embedded-start') parsed.embeddedStart = false;
    else if (name === '--scenarios') {
      const wanted = value().split(',');
      for (const scenario of wanted) {
        if (!scenarioNames.includes(scenario)) {
          throw new Error(`unknown scenario ${scenario}; known: ${scenarioNames.join(', ')}`);
        }
      }
      parsed.scenarios = wanted;
    } else throw new Error(`unknown option ${name}`);
  }
  return parsed;
}

function say(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function main(options: Options): Promise<void> {
  const cores = availableParallelism();
  say(
    `${options.runs} run(s), ${options.durationSeconds} s per scenario, ${options.connections} connections, ` +
      `${cores} cores, WORKERS=${options.workers ?? '(service default)'}, rate limits off`,
  );
  const mail = await startBenchMail();
  const rows: Row[] = [];
  const summaries: RunSummary[] = [];
  try {
    const embeddedDir = options.embeddedStart
      ? mkdtempSync(join(tmpdir(), 'latchkey-bench-data-'))
      : undefined;
    try {
      if (embeddedDir !== undefined) {
        say('embedded mode: first start (creates the data folder)');
        await measureEmbeddedStart(embeddedDir);
      }
      for (let run = 1; run <= options.runs; run++) {
        say(`run ${run}/${options.runs}`);
        const embeddedWarmStartMilliseconds =
          embeddedDir === undefined ? null : await measureEmbeddedStart(embeddedDir);
        const result = await runOnce(run, options, mail, cores);
        rows.push(...result.rows);
        summaries.push({ ...result.summary, embeddedWarmStartMilliseconds });
      }
    } finally {
      if (embeddedDir !== undefined) rmSync(embeddedDir, { recursive: true, force: true });
    }
  } finally {
    await mail.stop();
  }
  printTable(rows, summaries, options);
  if (options.jsonPath !== undefined) {
    const medians = medianRows(rows);
    writeFileSync(
      options.jsonPath,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          cores,
          node: process.version,
          options,
          medians,
          summaries,
          rows,
        },
        null,
        2,
      )}\n`,
    );
    say(`rows written to ${options.jsonPath}`);
  }
}

/** Starts the service in embedded mode on `dataDir` and returns the milliseconds to its first answer. */
async function measureEmbeddedStart(dataDir: string): Promise<number> {
  const service = await startService(
    { NODE_ENV: 'development', DATA_DIR: dataDir, LOG_LEVEL: 'warn', EMAIL_DISPATCHER: 'false' },
    join(tmpdir(), 'latchkey-bench-embedded.log'),
  );
  await service.stop();
  return Math.round(service.startMilliseconds);
}

async function runOnce(
  run: number,
  options: Options,
  mail: BenchMail,
  cores: number,
): Promise<{ rows: Row[]; summary: Omit<RunSummary, 'embeddedWarmStartMilliseconds'> }> {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const redisKeyPrefix = `latchkey-bench-${suffix}:`;
  const database = await createThrowawayDatabase({
    adminUrl: adminDatabaseUrl,
    namePrefix: 'latchkey_bench',
  });
  let service: RunningService | undefined;
  try {
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisKeyPrefix,
      SECRET_KEY: randomBytes(32).toString('hex'),
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(mail.port),
      SMTP_SECURE: 'none',
      FROM_EMAIL: 'Latchkey <noreply@latchkey.test>',
      // Per-IP budgets would turn the load into 429s: the bench measures the work, not the limiter.
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    };
    const port = String(await findFreePort());
    env.PORT = port;
    env.APP_BASE_URL = `http://127.0.0.1:${port}`;
    if (options.workers !== undefined) env.WORKERS = options.workers;
    if (options.nodeOptions !== undefined) env.NODE_OPTIONS = options.nodeOptions;
    Object.assign(env, options.extraEnv);
    service = await startService(env, join(tmpdir(), `latchkey-bench-${run}.log`));
    say(`service up in ${Math.round(service.startMilliseconds)} ms (pid ${service.pid})`);
    await waitUntilIdle(service.pid);
    const idleRssMb = sampleResidentMemory(service.pid).stop();

    const ceiling = measureHashCeiling(cores);
    say(
      `argon2id ceiling: ${ceiling.hashesPerSecond} hashes/s (one hash ${ceiling.singleHashMilliseconds} ms)`,
    );
    // Other work on a shared machine moves the ceiling from minute to minute, so each hash-bound scenario is
    // compared with the mean of probes taken right before and right after it.
    const probes: number[] = [ceiling.hashesPerSecond];
    let lastProbe: number | undefined;
    const probeCeiling = (): number => {
      const rate = measureHashCeiling(cores).hashesPerSecond;
      probes.push(rate);
      say(`argon2id ceiling probe: ${rate} hashes/s`);
      return rate;
    };

    const user = await prepareUser(service.url, mail, `main-${suffix}`);
    await checkFlow(service.url, mail, `flow-${suffix}`);

    const rows: Row[] = [];
    let mailBacklogSeconds: number | null = null;
    for (const scenario of options.scenarios.map(findScenario)) {
      await waitUntilIdle(service.pid);
      say(`run ${run}: ${scenario.name}`);
      const settings = {
        user,
        suffix,
        run,
        connections: options.connections,
        durationSeconds: options.durationSeconds,
        redisUrl,
        redisKeyPrefix,
        serviceUrl: service.url,
      };
      const own = await scenario.startTarget?.(settings);
      const target = own ?? service;
      const mailBefore = mail.count;
      const before = scenario.hashBound === true ? (lastProbe ?? probeCeiling()) : undefined;
      let measured: Measured[];
      let cpu: { otherCpuCores: number; serviceCpuSeconds: number };
      try {
        const usage = startCpuAccounting(target.pid);
        measured = await measureScenario(
          scenario,
          { ...settings, url: target.url, targetTokens: own?.tokens ?? [] },
          target.pid,
        );
        cpu = usage.stop();
      } finally {
        await own?.stop();
      }
      const { otherCpuCores, serviceCpuSeconds } = cpu;
      const answered = measured.reduce((sum, row) => sum + row.ok + row.non2xx, 0);
      const serviceCpuMicrosecondsPerRequest = Math.round((serviceCpuSeconds * 1e6) / Math.max(1, answered));
      // Timed from the end of the scenario, while the service finishes sending (deferred mail included).
      const mailDelivered =
        scenario.timesMailBacklog === true
          ? waitForMail(mail, mailBefore + (measured[0]?.ok ?? 0))
          : undefined;
      lastProbe = undefined;
      let scenarioCeiling: number | undefined;
      if (before !== undefined) {
        await waitUntilIdle(service.pid);
        lastProbe = probeCeiling();
        scenarioCeiling = (before + lastProbe) / 2;
      }
      for (const row of measured) {
        rows.push({
          ...row,
          run,
          otherCpuCores,
          serviceCpuMicrosecondsPerRequest,
          ceilingShare:
            scenarioCeiling !== undefined && row.scenario === scenario.name
              ? row.rps / scenarioCeiling
              : null,
        });
      }
      if (mailDelivered !== undefined) mailBacklogSeconds = await mailDelivered;
    }
    return {
      rows,
      summary: {
        run,
        ceilingHashesPerSecond: Number(median(probes).toFixed(1)),
        ceilingProbes: probes,
        singleHashMilliseconds: ceiling.singleHashMilliseconds,
        idleRssMb,
        startMilliseconds: Math.round(service.startMilliseconds),
        mailBacklogSeconds,
      },
    };
  } finally {
    await service?.stop();
    await database.drop();
    await deleteRedisKeys(redisUrl, redisKeyPrefix);
  }
}

/** Seconds until the sink has received `expected` messages in total after the scenario ended (null: timed out). */
async function waitForMail(mail: BenchMail, expected: number): Promise<number | null> {
  const started = performance.now();
  while (mail.count < expected) {
    if (performance.now() - started > 120_000) return null;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Number(((performance.now() - started) / 1000).toFixed(1));
}

function measureHashCeiling(cores: number): { hashesPerSecond: number; singleHashMilliseconds: number } {
  const result = spawnSync(process.execPath, ['bench/hash-ceiling.ts', '5'], {
    cwd: repositoryRoot,
    env: { ...process.env, UV_THREADPOOL_SIZE: String(cores) },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`hash ceiling failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { hashesPerSecond: number; singleHashMilliseconds: number };
}

function findScenario(name: string): Scenario {
  const found = scenarios.find((scenario) => scenario.name === name);
  if (found === undefined) throw new Error(`unknown scenario ${name}`);
  return found;
}
