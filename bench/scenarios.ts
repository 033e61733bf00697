// The scenarios of `npm run bench`, one entry each: its name, what it loads (the service, or another server
// it starts first), the autocannon run(s) it makes (in parallel, one row each), and what is checked around it.
// docs/performance.md says what each one means.
import autocannon from 'autocannon';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downstreamRoute, startDownstream } from './downstream.ts';
import { measureHousekeepingUnderLoad } from './housekeeping-load.ts';
import type { BenchUser } from './journey.ts';
import type { Row } from './report.ts';
import { startService, type RunningService } from './service.ts';
import { sampleResidentMemory } from './usage.ts';

/** What the scenarios are given: the loaded server, the prepared user, the run's settings. */
export interface ScenarioContext {
  /** The server under load: the service, or the scenario's own target. */
  readonly url: string;
  readonly user: BenchUser;
  /** Unique to the run, for addresses the run creates. */
  readonly suffix: string;
  readonly run: number;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Where the service keeps its sessions: the floor server reads the same records. */
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  /** Latchkey itself, whichever server is under load: the JWT scenarios mint their tokens there. */
  readonly serviceUrl: string;
  /** Bearer tokens the scenario's own target accepts, minted when it started (empty for the service). */
  readonly targetTokens: readonly string[];
  /** The service's database, for the scenarios that seed rows of their own. */
  readonly databaseUrl: string;
  /** Accounts seeded before the run (--accounts): they own the rows such scenarios add. */
  readonly accounts: number;
  /** Expired rows the housekeeping scenario adds before its pass (--expired-rows). */
  readonly expiredRows: number;
  readonly say: (message: string) => void;
}

/** One autocannon run of a scenario, and the row it gives. */
interface Load {
  readonly name: string;
  readonly connections: number;
  readonly options: autocannon.Options;
  readonly note?: string;
}

export interface Scenario {
  readonly name: string;
  /** One argon2id hash per request: read against the ceiling probed right before and right after it. */
  readonly hashBound?: boolean;
  /** Registration mail is timed until delivered, from the end of the scenario (deferred mail included). */
  readonly timesMailBacklog?: boolean;
  /** Another server to load instead of the service, started before the scenario and stopped after it. */
  startTarget?(context: Omit<ScenarioContext, 'url' | 'targetTokens'>): Promise<Target>;
  /** Left out of the default list: it changes the database (named in --scenarios to run it). */
  readonly optIn?: boolean;
  /** Measures by itself instead of running `loads` (a load that lasts as long as some work, not a duration). */
  measure?(context: ScenarioContext): Promise<Measured[]>;
  loads(context: ScenarioContext): Load[];
}

/** A scenario's own server, and the tokens minted for it. */
export interface Target extends RunningService {
  readonly tokens?: readonly string[];
}

/** Distinct JWTs of `verify-uncached`, minted up front. */
const uncachedTokenCount = 1000;
const stormWhoamiConnections = 10;
const stormWhoamiRate = 500;
const json = { 'content-type': 'application/json' };

function base(context: ScenarioContext): autocannon.Options {
  return {
    url: context.url,
    connections: context.connections,
    duration: context.durationSeconds,
    timeout: 10,
  };
}

function bearer(context: ScenarioContext): Record<string, string> {
  return { authorization: `Bearer ${context.user.token}` };
}

function loginRequest(context: ScenarioContext): autocannon.Request {
  return {
    method: 'POST',
    path: '/login',
    headers: json,
    body: JSON.stringify({ email: context.user.email, password: context.user.password }),
  };
}

/** A scenario's only load, at the run's connections: `options` on top of the common ones. */
function only(
  context: ScenarioContext,
  name: string,
  options: Partial<autocannon.Options>,
  note?: string,
): Load[] {
  return [
    {
      name,
      connections: context.connections,
      options: { ...base(context), ...options },
      ...(note === undefined ? {} : { note }),
    },
  ];
}

/** The verifier's example app with `tokenCount` JWTs minted for the bench user. */
function startVerifyTarget(
  context: Omit<ScenarioContext, 'url' | 'targetTokens'>,
  tokenCount: number,
  verifiedTokenCacheSize?: number,
): Promise<Target> {
  return startDownstream({
    serviceUrl: context.serviceUrl,
    sessionToken: context.user.token,
    run: context.run,
    durationSeconds: context.durationSeconds,
    tokenCount,
    ...(verifiedTokenCacheSize !== undefined && { verifiedTokenCacheSize }),
  });
}

export const scenarios: readonly Scenario[] = [
  {
    name: 'whoami-floor',
    startTarget: (context) =>
      startService(
        { REDIS_URL: context.redisUrl, REDIS_KEY_PREFIX: context.redisKeyPrefix },
        join(tmpdir(), `latchkey-bench-floor-${context.run}.log`),
        'bench/floor-server.ts',
      ),
    loads: (context) =>
      only(
        context,
        'whoami-floor',
        { headers: bearer(context), url: `${context.url}/me` },
        'GET /me on bench/floor-server.ts (fastify + ioredis alone, same session record): the bound of this machine',
      ),
  },
  {
    name: 'whoami-bearer',
    loads: (context) =>
      only(context, 'whoami-bearer', { headers: bearer(context), url: `${context.url}/me` }),
  },
  {
    name: 'whoami-cookie',
    loads: (context) =>
      only(context, 'whoami-cookie', {
        headers: { cookie: `session_id=${context.user.token}` },
        url: `${context.url}/me`,
      }),
  },
  {
    name: 'jwt-mint',
    loads: (context) =>
      only(context, 'jwt-mint', { method: 'POST', headers: bearer(context), url: `${context.url}/jwt` }),
  },
  {
    name: 'jwt-mint-cookie',
    loads: (context) =>
      only(context, 'jwt-mint-cookie', {
        method: 'POST',
        // A same-site write: the Origin of the service itself, as a browser on its pages would send.
        headers: { cookie: `session_id=${context.user.token}`, origin: context.serviceUrl },
        url: `${context.url}/jwt`,
      }),
  },
  {
    name: 'verify',
    startTarget: (context) => startVerifyTarget(context, 1),
    loads: (context) =>
      only(
        context,
        'verify',
        {
          headers: { authorization: `Bearer ${context.targetTokens[0]}` },
          url: `${context.url}${downstreamRoute}`,
        },
        `GET ${downstreamRoute} on the verifier's example app, one JWT repeated: checked once, then verified-token cache hits`,
      ),
  },
  {
    name: 'verify-uncached',
    // Without the cache of verified tokens: every request checks an Ed25519 signature.
    startTarget: (context) => startVerifyTarget(context, uncachedTokenCount, 0),
    loads: (context) => {
      const tokens = context.targetTokens;
      let next = 0;
      return only(
        context,
        'verify-uncached',
        {
          requests: [
            {
              method: 'GET',
              path: downstreamRoute,
              setupRequest: (request) => ({
                ...request,
                headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` },
              }),
            },
          ],
        },
        `GET ${downstreamRoute} on the example app, ${uncachedTokenCount} JWTs round-robin, VERIFIED_TOKEN_CACHE_SIZE=0: a full Ed25519 check each`,
      );
    },
  },
  {
    name: 'login',
    hashBound: true,
    loads: (context) => only(context, 'login', { requests: [loginRequest(context)] }),
  },
  {
    name: 'register',
    hashBound: true,
    timesMailBacklog: true,
    loads: (context) => {
      let sequence = 0;
      const body = (): string =>
        JSON.stringify({
          email: `bench-reg-${context.suffix}-${++sequence}@example.com`,
          password: context.user.password,
        });
      return only(context, 'register', {
        requests: [
          {
            method: 'POST',
            path: '/register',
            headers: json,
            setupRequest: (request) => ({ ...request, body: body() }),
          },
        ],
      });
    },
  },
  {
    name: 'reset-request',
    loads: (context) =>
      only(context, 'reset-request', {
        method: 'POST',
        url: `${context.url}/request-password-reset`,
        headers: json,
        body: JSON.stringify({ email: context.user.email }),
      }),
  },
  {
    name: 'whoami-during-login-storm',
    // The storm first: who-am-I is offered beside it.
    loads: (context) => [
      ...only(context, 'login (the storm beside it)', { requests: [loginRequest(context)] }),
      {
        name: 'whoami-during-login-storm',
        connections: stormWhoamiConnections,
        options: {
          ...base(context),
          connections: stormWhoamiConnections,
          overallRate: stormWhoamiRate,
          headers: bearer(context),
          url: `${context.url}/me`,
        },
        note: `${stormWhoamiRate} req/s offered beside ${context.connections} login connections`,
      },
    ],
  },
  {
    name: 'housekeeping-under-load',
    optIn: true,
    measure: (context) =>
      measureHousekeepingUnderLoad(
        {
          url: context.url,
          databaseUrl: context.databaseUrl,
          bearerToken: context.user.token,
          expiredRows: context.expiredRows,
          accounts: context.accounts,
        },
        context.say,
      ),
    loads: () => [],
  },
];

export const scenarioNames: readonly string[] = scenarios.map((scenario) => scenario.name);
/** What a run measures unless --scenarios says otherwise. */
export const defaultScenarioNames: readonly string[] = scenarios
  .filter((scenario) => scenario.optIn !== true)
  .map((scenario) => scenario.name);
/** The scenarios read side by side at two scales (--scales). */
export const scaleScenarioNames: readonly string[] = [
  'whoami-bearer',
  'whoami-cookie',
  'login',
  'register',
  'reset-request',
];

/** A row before the run adds what it knows: the run, the ceiling share and the CPU figures. */
export type Measured = Omit<
  Row,
  'run' | 'ceilingShare' | 'otherCpuCores' | 'serviceCpuMicrosecondsPerRequest'
> & {
  ok: number;
};

/**
 * Runs the scenario's loads at once against `context.url` while sampling the memory of `pid`; the scenario's
 * own row comes first.
 */
export async function measureScenario(
  scenario: Scenario,
  context: ScenarioContext,
  pid: number,
): Promise<Measured[]> {
  if (scenario.measure !== undefined) {
    const memory = sampleResidentMemory(pid);
    const measured = await scenario.measure(context);
    const peakRssMb = Number(memory.stop().toFixed(1));
    return measured.map((row) => ({ ...row, peakRssMb }));
  }
  const loads = scenario.loads(context);
  const memory = sampleResidentMemory(pid);
  const results = await Promise.all(loads.map((load) => autocannon(load.options)));
  const peakRssMb = memory.stop();
  const measured = loads.map(({ name, connections, note }, index): Measured => {
    const result = results[index] as autocannon.Result;
    return {
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
    };
  });
  return [
    ...measured.filter((row) => row.scenario === scenario.name),
    ...measured.filter((row) => row.scenario !== scenario.name),
  ];
}
