// `npm run bench`: Latchkey under load, in production mode on the machine's PostgreSQL and Redis.
// See docs/performance.md for what each scenario means and for the figures of the last run.
//
//   npm run bench -- [--runs 3] [--duration 10] [--connections 50] [--workers N] [--scenarios a,b]
//                    [--node-options "--flag ..."] [--json FILE] [--no-lock] [--no-embedded-start]
//
// Each run starts a fresh service (its own database and Redis key prefix, both removed afterwards), prepares
// verified users through the real HTTP + mail flow, measures the argon2id ceiling of the machine, then runs
// the scenarios one after the other with autocannon. The table shows the medians over the runs.
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startMailSink, type MailSink } from './mail-sink.ts';
import {
  cpuTicks,
  findFreePort,
  processTree,
  repositoryRoot,
  sampleResidentMemory,
  startService,
  waitUntilIdle,
  type RunningService,
} from './service.ts';

const scenarioNames = [
  'whoami-floor',
  'whoami-bearer',
  'whoami-cookie',
  'login',
  'register',
  'reset-request',
  'whoami-during-login-storm',
] as const;
type ScenarioName = (typeof scenarioNames)[number];

interface Options {
  runs: number;
  durationSeconds: number;
  connections: number;
  workers: string | undefined;
  /** NODE_OPTIONS for the service, e.g. V8 heap flags to compare. */
  nodeOptions: string | undefined;
  /** Extra settings for the service (`--env KEY=VALUE`, repeatable), to compare a setting against the default. */
  extraEnv: Record<string, string>;
  scenarios: ScenarioName[];
  jsonPath: string | undefined;
  lock: boolean;
  embeddedStart: boolean;
}

/** One measured row: one scenario in one run. */
interface Row {
  run: number;
  scenario: string;
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  peakRssMb: number;
  /** rps as a share of the argon2id ceiling, for the scenarios that cost one hash per request. */
  ceilingShare: number | null;
  /** Cores used meanwhile by every other process of the machine (PostgreSQL and Redis included): the noise. */
  otherCpuCores: number;
  /**
   * CPU time of the service's whole process tree (every thread: event loop, hash pool, GC) per answered
   * request: what one request costs the service itself, apart from the load generator, PostgreSQL and Redis.
   */
  serviceCpuMicrosecondsPerRequest: number;
  note?: string;
}

interface RunSummary {
  run: number;
  ceilingHashesPerSecond: number;
  /** Every ceiling probe of the run, in order: at start, then around each hash-bound scenario. */
  ceilingProbes: number[];
  singleHashMilliseconds: number;
  idleRssMb: number;
  startMilliseconds: number;
  embeddedWarmStartMilliseconds: number | null;
  mailBacklogSeconds: number | null;
}

const lockPath = '/tmp/bench.lock';
const adminDatabaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const password = 'bench passphrase, long enough 7Q!';
const stormWhoamiConnections = 10;
const stormWhoamiRate = 500;

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
    if (name === '--runs') parsed.runs = Number(value());
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
        if (!(scenarioNames as readonly string[]).includes(scenario)) {
          throw new Error(`unknown scenario ${scenario}; known: ${scenarioNames.join(', ')}`);
        }
      }
      parsed.scenarios = wanted as ScenarioName[];
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
  const mail = await startMailSink();
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

interface Prepared {
  service: RunningService;
  email: string;
  token: string;
}

async function runOnce(
  run: number,
  options: Options,
  mail: MailSink,
  cores: number,
): Promise<{ rows: Row[]; summary: Omit<RunSummary, 'embeddedWarmStartMilliseconds'> }> {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `latchkey_bench_${suffix}`;
  const redisKeyPrefix = `latchkey-bench-${suffix}:`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const databaseUrl = new URL(adminDatabaseUrl);
  databaseUrl.pathname = `/${databaseName}`;
  let service: RunningService | undefined;
  try {
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl.href,
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

    const prepared: Prepared = { service, ...(await prepareUser(service.url, mail, `main-${suffix}`)) };
    await checkFlow(service.url, mail, `flow-${suffix}`);

    const rows: Row[] = [];
    let mailBacklogSeconds: number | null = null;
    for (const scenario of options.scenarios) {
      await waitUntilIdle(service.pid);
      say(`run ${run}: ${scenario}`);
      // The floor scenario loads the floor server (on the service's Redis records), not the service.
      const floor =
        scenario === 'whoami-floor'
          ? await startService(
              { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: redisKeyPrefix },
              join(tmpdir(), `latchkey-bench-floor-${run}.log`),
              'bench/floor-server.ts',
            )
          : undefined;
      const target = floor ?? service;
      const mailBefore = mail.count;
      const hashBoundScenario = scenario === 'login' || scenario === 'register';
      const before = hashBoundScenario ? (lastProbe ?? probeCeiling()) : undefined;
      let measured: Measured[];
      let cpu: { otherCpuCores: number; serviceCpuSeconds: number };
      try {
        const usage = startCpuAccounting(target.pid);
        measured = await runScenario(scenario, { ...prepared, service: target }, options, suffix);
        cpu = usage.stop();
      } finally {
        await floor?.stop();
      }
      const { otherCpuCores, serviceCpuSeconds } = cpu;
      const answered = measured.reduce((sum, row) => sum + row.ok + row.non2xx, 0);
      const serviceCpuMicrosecondsPerRequest = Math.round((serviceCpuSeconds * 1e6) / Math.max(1, answered));
      // Timed from the end of the scenario, while the service finishes sending (deferred mail included).
      const mailDelivered =
        scenario === 'register' ? waitForMail(mail, mailBefore + (measured[0]?.ok ?? 0)) : undefined;
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
            scenarioCeiling !== undefined && row.scenario === scenario ? row.rps / scenarioCeiling : null,
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
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
    await deleteRedisKeys(redisKeyPrefix);
  }
}

/** Seconds until the sink has received `expected` messages in total after the scenario ended (null: timed out). */
async function waitForMail(mail: MailSink, expected: number): Promise<number | null> {
  const started = performance.now();
  while (mail.count < expected) {
    if (performance.now() - started > 120_000) return null;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Number(((performance.now() - started) / 1000).toFixed(1));
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
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

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${await response.text()}`);
  }
  await response.arrayBuffer();
}

function tokenIn(text: string): string {
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(text);
  if (match?.[1] === undefined) throw new Error(`no token in mail: ${text.slice(0, 300)}`);
  return match[1];
}

/** Registers, verifies through the emailed link and logs in; returns the session token. */
async function prepareUser(
  url: string,
  mail: MailSink,
  tag: string,
): Promise<{ email: string; token: string }> {
  const email = `bench-${tag}@example.com`;
  const verification = mail.waitForText(email);
  await expectStatus(await post(url, '/register', { email, password }), 200, 'register');
  await expectStatus(
    await post(url, '/verify-email', { token: tokenIn(await verification) }),
    200,
    'verify-email',
  );
  return { email, token: await logIn(url, email, password) };
}

async function logIn(url: string, email: string, secret: string): Promise<string> {
  const response = await post(url, '/login', { email, password: secret });
  if (response.status !== 200) throw new Error(`login: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function whoAmIStatus(url: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${url}/me`, { headers });
  await response.arrayBuffer();
  return response.status;
}

/**
 * The whole journey once, before any load: a reset through the emailed link, a login with the new password,
 * who-am-I by bearer and by cookie, logout, and then the same token refused on the very next request.
 */
async function checkFlow(url: string, mail: MailSink, tag: string): Promise<void> {
  const { email, token } = await prepareUser(url, mail, tag);
  const resetMail = mail.waitForText(email);
  await expectStatus(await post(url, '/request-password-reset', { email }), 202, 'request-password-reset');
  const newPassword = `${password} (new)`;
  await expectStatus(
    await post(url, '/reset-password', { token: tokenIn(await resetMail), new_password: newPassword }),
    200,
    'reset-password',
  );
  if ((await whoAmIStatus(url, { authorization: `Bearer ${token}` })) !== 401) {
    throw new Error('flow check: a session survived the password reset');
  }
  const fresh = await logIn(url, email, newPassword);
  if ((await whoAmIStatus(url, { authorization: `Bearer ${fresh}` })) !== 200) {
    throw new Error('flow check: who-am-I by bearer failed');
  }
  if ((await whoAmIStatus(url, { cookie: `session_id=${fresh}` })) !== 200) {
    throw new Error('flow check: who-am-I by cookie failed');
  }
  await expectStatus(await post(url, '/logout', {}, { authorization: `Bearer ${fresh}` }), 200, 'logout');
  if ((await whoAmIStatus(url, { authorization: `Bearer ${fresh}` })) !== 401) {
    throw new Error('flow check: the session still answered after logout');
  }
  const old = await post(url, '/login', { email, password });
  if (old.status !== 401) throw new Error(`flow check: the old password gave ${old.status} after the reset`);
  await old.arrayBuffer();
}

type Measured = Omit<Row, 'run' | 'ceilingShare' | 'otherCpuCores' | 'serviceCpuMicrosecondsPerRequest'> & {
  ok: number;
};

/** Busy CPU ticks of the whole machine (user, nice, system, irq, softirq, steal) from /proc/stat. */
function machineBusyTicks(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  return [1, 2, 3, 6, 7, 8].reduce((sum, index) => sum + (fields[index] ?? 0), 0);
}

/**
 * Measures until `stop()` how many cores the processes other than the service and the bench used, and the CPU
 * time of the service itself.
 */
function startCpuAccounting(servicePid: number): {
  stop(): { otherCpuCores: number; serviceCpuSeconds: number };
} {
  const started = performance.now();
  const machine = machineBusyTicks();
  const service = cpuTicks(processTree(servicePid));
  const bench = process.cpuUsage();
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      const benchUsage = process.cpuUsage(bench);
      const benchTicks = (benchUsage.user + benchUsage.system) / 10_000;
      const serviceTicks = cpuTicks(processTree(servicePid)) - service;
      const otherTicks = machineBusyTicks() - machine - serviceTicks - benchTicks;
      return {
        otherCpuCores: Number(Math.max(0, otherTicks / 100 / seconds).toFixed(2)),
        serviceCpuSeconds: serviceTicks / 100,
      };
    },
  };
}

async function runScenario(
  scenario: ScenarioName,
  prepared: Prepared,
  options: Options,
  suffix: string,
): Promise<Measured[]> {
  const { url } = prepared.service;
  const base = {
    url,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
  };
  const json = { 'content-type': 'application/json' };
  const loginRequest = {
    method: 'POST' as const,
    path: '/login',
    headers: json,
    body: JSON.stringify({ email: prepared.email, password }),
  };
  const bearer = { authorization: `Bearer ${prepared.token}` };
  const memory = sampleResidentMemory(prepared.service.pid);
  let results: { name: string; result: autocannon.Result; connections: number; note?: string }[];
  switch (scenario) {
    case 'whoami-floor':
    case 'whoami-bearer':
      results = [
        {
          name: scenario,
          connections: options.connections,
          result: await autocannon({ ...base, headers: bearer, url: `${url}/me` }),
          ...(scenario === 'whoami-floor' && {
            note: 'GET /me on bench/floor-server.ts (fastify + ioredis alone, same session record): the bound of this machine',
          }),
        },
      ];
      break;
    case 'whoami-cookie':
      results = [
        {
          name: scenario,
          connections: options.connections,
          result: await autocannon({
            ...base,
            headers: { cookie: `session_id=${prepared.token}` },
            url: `${url}/me`,
          }),
        },
      ];
      break;
    case 'login':
      results = [
        {
          name: scenario,
          connections: options.connections,
          result: await autocannon({ ...base, requests: [loginRequest] }),
        },
      ];
      break;
    case 'register': {
      let sequence = 0;
      results = [
        {
          name: scenario,
          connections: options.connections,
          result: await autocannon({
            ...base,
            requests: [
              {
                method: 'POST',
                path: '/register',
                headers: json,
                setupRequest: (request) => ({
                  ...request,
                  body: JSON.stringify({ email: `bench-reg-${suffix}-${++sequence}@example.com`, password }),
                }),
              },
            ],
          }),
        },
      ];
      break;
    }
    case 'reset-request':
      results = [
        {
          name: scenario,
          connections: options.connections,
          result: await autocannon({
            ...base,
            method: 'POST',
            url: `${url}/request-password-reset`,
            headers: json,
            body: JSON.stringify({ email: prepared.email }),
          }),
        },
      ];
      break;
    case 'whoami-during-login-storm': {
      const [storm, whoami] = await Promise.all([
        autocannon({ ...base, requests: [loginRequest] }),
        autocannon({
          ...base,
          connections: stormWhoamiConnections,
          overallRate: stormWhoamiRate,
          headers: bearer,
          url: `${url}/me`,
        }),
      ]);
      results = [
        {
          name: scenario,
          connections: stormWhoamiConnections,
          result: whoami,
          note: `${stormWhoamiRate} req/s offered beside ${options.connections} login connections`,
        },
        { name: 'login (the storm beside it)', connections: options.connections, result: storm },
      ];
      break;
    }
  }
  const peakRssMb = memory.stop();
  return results.map(({ name, result, connections, note }) => ({
    scenario: name,
    connections,
    rps: Number(result.requests.average.toFixed(1)),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    ok: result['2xx'],
    peakRssMb: Number(peakRssMb.toFixed(1)),
    ...(note === undefined ? {} : { note }),
  }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

type MedianRow = Omit<Row, 'run'> & { runs: number };

function medianRows(rows: readonly Row[]): MedianRow[] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) groups.set(row.scenario, [...(groups.get(row.scenario) ?? []), row]);
  return [...groups.values()].map((group) => {
    const of = (pick: (row: Row) => number): number => median(group.map(pick));
    const first = group[0] as Row;
    const shares = group.map((row) => row.ceilingShare).filter((share): share is number => share !== null);
    return {
      scenario: first.scenario,
      connections: first.connections,
      runs: group.length,
      rps: of((row) => row.rps),
      p50Ms: of((row) => row.p50Ms),
      p99Ms: of((row) => row.p99Ms),
      errors: of((row) => row.errors),
      non2xx: of((row) => row.non2xx),
      peakRssMb: of((row) => row.peakRssMb),
      otherCpuCores: of((row) => row.otherCpuCores),
      serviceCpuMicrosecondsPerRequest: of((row) => row.serviceCpuMicrosecondsPerRequest),
      ceilingShare: shares.length > 0 ? median(shares) : null,
      ...(first.note === undefined ? {} : { note: first.note }),
    };
  });
}

function printTable(rows: readonly Row[], summaries: readonly RunSummary[], options: Options): void {
  const medians = medianRows(rows);
  const lines = [
    '',
    `Latchkey, medians of ${options.runs} run(s), ${options.durationSeconds} s each, rate limits off`,
    '',
    '| scenario | conns | rps | p50 ms | p99 ms | errors | non-2xx | peak RSS MB | share of argon2id ceiling | service CPU µs/request | other processes, cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...medians.map(
      (row) =>
        `| ${row.scenario} | ${row.connections} | ${row.rps} | ${row.p50Ms} | ${row.p99Ms} | ${row.errors} | ` +
        `${row.non2xx} | ${row.peakRssMb} | ${row.ceilingShare === null ? '' : `${(row.ceilingShare * 100).toFixed(0)} %`} | ` +
        `${row.serviceCpuMicrosecondsPerRequest} | ${row.otherCpuCores} |`,
    ),
    '',
  ];
  const summaryMedian = (pick: (summary: RunSummary) => number | null): number | null => {
    const values = summaries.map(pick).filter((value): value is number => value !== null);
    return values.length === 0 ? null : Number(median(values).toFixed(1));
  };
  lines.push(
    `argon2id ceiling: ${summaryMedian((s) => s.ceilingHashesPerSecond)} hashes/s on ${availableParallelism()} cores ` +
      `(one hash: ${summaryMedian((s) => s.singleHashMilliseconds)} ms); per run: ${summaries.map((s) => s.ceilingHashesPerSecond).join(', ')}`,
    `idle RSS: ${summaryMedian((s) => s.idleRssMb)?.toFixed(1)} MB; production start-up to first answer: ${summaryMedian((s) => s.startMilliseconds)} ms`,
    `embedded mode, warm data folder, start-up to first answer: ${summaryMedian((s) => s.embeddedWarmStartMilliseconds) ?? 'not measured'} ms`,
    `registration mail still in the outbox when the register scenario ended, delivered within: ${summaryMedian((s) => s.mailBacklogSeconds) ?? '?'} s`,
    'share of the ceiling: rps over the mean of the argon2id probes taken just before and just after the scenario',
    'service CPU: of the whole service (event loop, hash threads, GC) over the requests answered, both rows of a storm together',
    'other processes: cores used meanwhile by everything but the service and the bench (PostgreSQL, Redis, other jobs)',
  );
  for (const row of medians) if (row.note !== undefined) lines.push(`${row.scenario}: ${row.note}`);
  const floor = medians.find((row) => row.scenario === 'whoami-floor');
  if (floor !== undefined) {
    const shares = medians
      .filter((row) => row.scenario === 'whoami-bearer' || row.scenario === 'whoami-cookie')
      .map((row) => `${row.scenario} ${((row.rps / floor.rps) * 100).toFixed(0)} %`);
    if (shares.length > 0) lines.push(`who-am-I as a share of the floor's rps: ${shares.join(', ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
