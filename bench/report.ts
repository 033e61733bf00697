// What the bench reports: one row per scenario and run, their medians, and the table printed at the end.
import { availableParallelism } from 'node:os';
import { housekeepingWhoamiP99GoalMilliseconds } from './housekeeping-load.ts';
import { describeSeededScale } from './scales.ts';
import type { SeedResult } from './seed.ts';

/** One measured row: one scenario in one run. */
export interface Row {
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
  /** housekeeping-under-load: the pass's seconds, the rows it deleted and the expired rows seeded before it. */
  housekeeping?: {
    passSeconds: number;
    deleted: Record<string, number>;
    seeded: Record<string, number>;
  };
}

export interface RunSummary {
  run: number;
  ceilingHashesPerSecond: number;
  /** Every ceiling probe of the run, in order: at start, then around each hash-bound scenario. */
  ceilingProbes: number[];
  singleHashMilliseconds: number;
  idleRssMb: number;
  startMilliseconds: number;
  embeddedWarmStartMilliseconds: number | null;
  mailBacklogSeconds: number | null;
  /** What --accounts/--sessions seeded, and what it costs per account and per session. */
  seeded: SeedResult | null;
  /** --explain: how many of the hot queries that scan read through an index, and where the plans are. */
  explainedIndexed: { indexed: number; scanning: number; path: string } | null;
}

export type MedianRow = Omit<Row, 'run'> & { runs: number };

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function medianRows(rows: readonly Row[]): MedianRow[] {
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

export function printTable(
  rows: readonly Row[],
  summaries: readonly RunSummary[],
  options: { readonly runs: number; readonly durationSeconds: number },
): void {
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
  const housekeeping = medians.find((row) => row.scenario === 'housekeeping-under-load');
  if (housekeeping !== undefined) {
    const control = medians.find((row) => row.scenario === 'housekeeping-under-load (no pass)');
    lines.push(
      `goal who-am-I p99 <= ${housekeepingWhoamiP99GoalMilliseconds} ms during a clean-up pass: ${housekeeping.p99Ms} ms ` +
        `(${control?.p99Ms ?? '?'} ms at the same rate without a pass), ` +
        `${housekeeping.p99Ms <= housekeepingWhoamiP99GoalMilliseconds ? 'met' : 'not met'}; passes took ` +
        `${rows
          .flatMap((row) => (row.housekeeping === undefined ? [] : [`${row.housekeeping.passSeconds} s`]))
          .join(', ')}`,
    );
  }
  lines.push(...describeSeededScale(summaries));
  const floor = medians.find((row) => row.scenario === 'whoami-floor');
  if (floor !== undefined) {
    const shares = medians
      .filter((row) => row.scenario === 'whoami-bearer' || row.scenario === 'whoami-cookie')
      .map((row) => `${row.scenario} ${((row.rps / floor.rps) * 100).toFixed(0)} %`);
    if (shares.length > 0) lines.push(`who-am-I as a share of the floor's rps: ${shares.join(', ')}`);
  }
  lines.push(...describeJwtGoals(medians));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The goals of the JWT rows, read against the rows of this run (lines only for the rows it measured). */
const jwtGoals: readonly { readonly scenario: string; readonly goal: string; readonly rps: number }[] = [
  { scenario: 'jwt-mint', goal: 'minting >= 5,000/s', rps: 5000 },
  { scenario: 'verify', goal: 'verifying >= 20,000/s', rps: 20_000 },
];

function describeJwtGoals(medians: readonly MedianRow[]): string[] {
  const rpsOf = (name: string): number | undefined => medians.find((row) => row.scenario === name)?.rps;
  const lines: string[] = [];
  for (const { scenario, goal, rps } of jwtGoals) {
    const measured = rpsOf(scenario);
    if (measured === undefined) continue;
    lines.push(`goal ${goal}: ${scenario} ${measured} rps, ${measured >= rps ? 'met' : 'not met'}`);
  }
  const cached = medians.find((row) => row.scenario === 'verify');
  const uncached = medians.find((row) => row.scenario === 'verify-uncached');
  if (cached !== undefined && uncached !== undefined && uncached.rps > 0) {
    lines.push(
      `verifier's cache of verified tokens: verify (one token, cached) at ${(cached.rps / uncached.rps).toFixed(1)}× ` +
        `the rate of verify-uncached (every signature checked), ${cached.serviceCpuMicrosecondsPerRequest} against ` +
        `${uncached.serviceCpuMicrosecondsPerRequest} µs of the app's CPU per request`,
    );
  }
  return lines;
}
