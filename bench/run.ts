// `npm run bench`: Latchkey under load, in production mode on the machine's PostgreSQL and Redis.
// See docs/performance.md for what each scenario means and for the figures of the last run.
//
//   npm run bench -- [--runs 3] [--duration 10] [--connections 50] [--workers N] [--scenarios a,b]
//                    [--node-options "--flag ..."] [--env KEY=VALUE] [--json FILE] [--no-lock]
//                    [--no-embedded-start] [--accounts N] [--sessions M] [--scales N1,N2] [--explain]
//                    [--explain-file FILE] [--expired-rows R] [--peers FILE] [--help]
//
// Each run starts a fresh service (its own database and Redis key prefix, both removed afterwards), seeds it
// with N accounts and M sessions if asked (bench/seed.ts), prepares verified users through the real HTTP + mail
// flow, measures the argon2id ceiling of the machine, then runs the scenarios one after the other with
// autocannon. The table shows the medians over the runs; with --scales, one table per scale and one that sets
// them side by side (bench/scales.ts).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { createThrowawayDatabase } from '../test/support/database.ts';
import { findFreePort } from '../test/support/ports.ts';
import { deleteRedisKeys } from '../test/support/redis.ts';
import { describePlans, explainHotQueries, seedPostgresSessions } from './explain.ts';
import { checkFlow, prepareUser, startBenchMail, type BenchMail } from './journey.ts';
import { median, medianRows, printTable, type Row, type RunSummary } from './report.ts';
import { printScaleComparison, readBetterAuthWhoamiRps, type ScaleResult } from './scales.ts';
import {
  defaultScenarioNames,
  measureScenario,
  scaleScenarioNames,
  scenarioNames,
  scenarios,
  type Measured,
  type Scenario,
} from './scenarios.ts';
import { seedScale } from './seed.ts';
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
  /** Accounts and live sessions seeded before the runs (--accounts, --sessions). */
  accounts: number;
  sessions: number;
  /** Set: every run at each of these scales (N = M), then the scales side by side. */
  scales: number[] | undefined;
  /** EXPLAIN the hot queries on the seeded database (default: from 100,000 accounts on). */
  explain: boolean | undefined;
  explainPath: string | undefined;
  /** Expired rows the housekeeping-under-load scenario adds before its pass. */
  expiredRows: number;
  /** The peers' rows (bench/compare.sh), for the who-am-I goal against Better Auth. */
  peersPath: string | undefined;
}

/** From this many seeded accounts on, the hot queries are EXPLAINed unless --explain says otherwise. */
const explainFromAccounts = 100_000;

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
  --accounts N          seed N accounts before the runs (SQL; pending links, sent mail, audit rows with them)
  --sessions M          seed M live sessions in Redis, through the service's own session store
  --scales N1,N2        run at each scale (N = M = it, a fresh service each) and print them side by side;
                        scenarios default to ${scaleScenarioNames.join(', ')}
  --explain             EXPLAIN the hot queries on the seeded database (default from ${explainFromAccounts} accounts)
  --no-explain          do not
  --explain-file FILE   where the plans go (default bench/results/<time>-explain-<N>.md)
  --expired-rows R      rows the housekeeping-under-load scenario expires before its pass (default 1000000)
  --peers FILE          peers' rows of bench/compare.sh (jsonl): who-am-I against Better Auth's
scenarios: ${scenarioNames.join(', ')} (housekeeping-under-load only when named)
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
    scenarios: [...defaultScenarioNames],
    jsonPath: undefined,
    lock: true,
    embeddedStart: true,
    accounts: 0,
    sessions: 0,
    scales: undefined,
    explain: undefined,
    explainPath: undefined,
    expiredRows: 1_000_000,
    peersPath: undefined,
  };
  let scenariosNamed = false;
  const count = (text: string, name: string): number => {
    const parsed = Number(text.replaceAll('_', ''));
    if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} takes a whole number, got ${text}`);
    return parsed;
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
    else if (name === '--accounts') parsed.accounts = count(value(), name);
    else if (name === '--sessions') parsed.sessions = count(value(), name);
    else if (name === '--scales')
      parsed.scales = value()
        .split(',')
        .map((scale) => count(scale, name));
    else if (name === '--explain') parsed.explain = true;
    else if (name === '--no-explain') parsed.explain = false;
    else if (name === '--explain-file') parsed.explainPath = value();
    else if (name === '--expired-rows') parsed.expiredRows = count(value(), name);
    else if (name === '--peers') parsed.peersPath = value();
    else if (name === '--scenarios') {
      scenariosNamed = true;
      const wanted = value().split(',');
      for (const scenario of wanted) {
        if (!scenarioNames.includes(scenario)) {
          throw new Error(`unknown scenario ${scenario}; known: ${scenarioNames.join(', ')}`);
        }
      }
      parsed.scenarios = wanted;
    } else throw new Error(`unknown option ${name}`);
  }
  if (parsed.scales !== undefined && !scenariosNamed) parsed.scenarios = [...scaleScenarioNames];
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
  const scales: Scale[] =
    options.scales === undefined
      ? [{ accounts: options.accounts, sessions: options.sessions }]
      : options.scales.map((scale) => ({ accounts: scale, sessions: scale }));
  const mail = await startBenchMail();
  const results: ScaleResult[] = [];
  try {
    const embeddedDir = options.embeddedStart
      ? mkdtempSync(join(tmpdir(), 'latchkey-bench-data-'))
      : undefined;
    try {
      if (embeddedDir !== undefined) {
        say('embedded mode: first start (creates the data folder)');
        await measureEmbeddedStart(embeddedDir);
      }
      for (const scale of scales) {
        const rows: Row[] = [];
        const summaries: RunSummary[] = [];
        for (let run = 1; run <= options.runs; run++) {
          say(`run ${run}/${options.runs}, ${scale.accounts} accounts, ${scale.sessions} sessions`);
          const embeddedWarmStartMilliseconds =
            embeddedDir === undefined ? null : await measureEmbeddedStart(embeddedDir);
          const result = await runOnce(run, options, mail, cores, scale);
          rows.push(...result.rows);
          summaries.push({ ...result.summary, embeddedWarmStartMilliseconds });
        }
        results.push({ ...scale, rows, summaries });
      }
    } finally {
      if (embeddedDir !== undefined) rmSync(embeddedDir, { recursive: true, force: true });
    }
  } finally {
    await mail.stop();
  }
  for (const result of results) {
    if (results.length > 1 || result.accounts > 0 || result.sessions > 0) {
      process.stdout.write(`\n## ${result.accounts} accounts, ${result.sessions} sessions\n`);
    }
    printTable(result.rows, result.summaries, options);
  }
  if (results.length > 1) {
    const betterAuthWhoamiRps =
      options.peersPath === undefined ? undefined : readBetterAuthWhoamiRps(options.peersPath);
    printScaleComparison(results, betterAuthWhoamiRps);
  }
  if (options.jsonPath !== undefined) {
    writeFileSync(
      options.jsonPath,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          cores,
          node: process.version,
          options,
          scales: results.map((result) => ({
            accounts: result.accounts,
            sessions: result.sessions,
            medians: medianRows(result.rows),
            summaries: result.summaries,
            rows: result.rows,
          })),
          // One scale: its rows where they always were, for bench/baselines and earlier readers.
          ...(results.length === 1 && {
            medians: medianRows(results[0]?.rows ?? []),
            summaries: results[0]?.summaries,
            rows: results[0]?.rows,
          }),
        },
        null,
        2,
      )}\n`,
    );
    say(`rows written to ${options.jsonPath}`);
  }
}

interface Scale {
  readonly accounts: number;
  readonly sessions: number;
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
  scale: Scale,
): Promise<{ rows: Row[]; summary: Omit<RunSummary, 'embeddedWarmStartMilliseconds'> }> {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  // As long as the service's default (`latchkey:`) give or take two characters: each session's keys carry it,
  // so the bytes per session measured are those of a deployment.
  const redisKeyPrefix = `lkb-${randomBytes(3).toString('hex')}:`;
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
    const seeded =
      scale.accounts > 0 || scale.sessions > 0
        ? await seedScale({ databaseUrl: database.url, redisUrl, redisKeyPrefix, ...scale }, say)
        : null;
    const explainedIndexed =
      (options.explain ?? scale.accounts >= explainFromAccounts) && run === 1
        ? await explainSeededDatabase(database.url, scale, options.explainPath)
        : null;
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
        databaseUrl: database.url,
        accounts: scale.accounts,
        expiredRows: options.expiredRows,
        say,
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
        seeded,
        explainedIndexed,
      },
    };
  } finally {
    await service?.stop();
    await database.drop();
    await deleteRedisKeys(redisUrl, redisKeyPrefix);
  }
}

/**
 * Adds sessions and refresh families to PostgreSQL (as embedded mode would hold them: their queries are hot
 * too), EXPLAINs every hot query, writes the plans to a file and returns how many of them read through an index.
 */
async function explainSeededDatabase(
  databaseUrl: string,
  scale: Scale,
  explainPath: string | undefined,
): Promise<{ indexed: number; scanning: number; path: string }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await seedPostgresSessions(client, Math.max(1, scale.accounts), Math.max(1, scale.sessions));
  } finally {
    await client.end();
  }
  const explained = await explainHotQueries(databaseUrl, scale.accounts);
  const path =
    explainPath ??
    join(
      repositoryRoot,
      'bench',
      'results',
      `${new Date().toISOString().slice(0, 16).replace(':', '')}-explain-${scale.accounts}.md`,
    );
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, describePlans(explained, scale.accounts, scale.sessions));
  const scanning = explained.filter((query) => query.scans);
  const sequential = scanning.filter((query) => !query.indexed).map((query) => query.name);
  say(
    `EXPLAIN: ${scanning.length - sequential.length} of ${scanning.length} hot queries read through an index` +
      `${sequential.length > 0 ? `; sequential: ${sequential.join(', ')}` : ''}; plans in ${path}`,
  );
  return { indexed: scanning.length - sequential.length, scanning: scanning.length, path };
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
