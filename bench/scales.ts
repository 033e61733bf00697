// `npm run bench -- --scales 1000,1000000`: the same scenarios at each scale on a fresh service, then one table
// that sets the smallest and largest side by side against the goals of issue 17 (rate within 10 %, p99 at
// most 1.5x) and the earlier goals (login and register against the argon2id ceiling, who-am-I against Better
// Auth), with what a session and an account cost at each scale.
import { readFileSync } from 'node:fs';
import { median, medianRows, type MedianRow, type Row, type RunSummary } from './report.ts';
import { scaleScenarioNames } from './scenarios.ts';

export interface ScaleResult {
  readonly accounts: number;
  readonly sessions: number;
  readonly rows: readonly Row[];
  readonly summaries: readonly RunSummary[];
}

/** The big scale's rate at least this share of the small one's. */
export const scaleRateGoalShare = 0.9;
/** The big scale's p99 at most this many times the small one's. */
export const scaleP99GoalFactor = 1.5;
export const redisBytesPerSessionGoal = 300;
export const postgresBytesPerAccountGoal = 1024;
/** The earlier goals, read at every scale. */
const ceilingGoals: Readonly<Record<string, number>> = { login: 0.9, register: 0.8 };
const betterAuthWhoamiGoalFactor = 5;

/** Better Auth's median who-am-I rate in the peers' rows of bench/compare.sh. */
export function readBetterAuthWhoamiRps(path: string): number | undefined {
  const rates = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { peer?: string; scenario?: string; rps?: number })
    .filter((row) => row.peer === 'better-auth' && row.scenario === 'whoami' && typeof row.rps === 'number')
    .map((row) => row.rps as number);
  return rates.length === 0 ? undefined : median(rates);
}

function formatCount(value: number): string {
  return value.toLocaleString('en');
}

function medianOf(
  summaries: readonly RunSummary[],
  pick: (summary: RunSummary) => number | null | undefined,
): number | null {
  const values = summaries.map(pick).filter((value): value is number => typeof value === 'number');
  return values.length === 0 ? null : Math.round(median(values));
}

/** Bytes per session and per account, seeding time and plans of one scale, against the goals. */
export function describeSeededScale(summaries: readonly RunSummary[]): string[] {
  const seeded = summaries.map((summary) => summary.seeded).filter((seed) => seed !== null);
  const first = seeded[0];
  if (first === undefined) return [];
  const perSession = medianOf(summaries, (summary) => summary.seeded?.redisBytesPerSessionByUsedMemory);
  const perSessionSampled = medianOf(summaries, (summary) => summary.seeded?.redisBytesPerSessionSampled);
  const perAccount = medianOf(summaries, (summary) => summary.seeded?.postgresBytesPerAccount);
  const verdict = (value: number | null, goal: number): string =>
    value === null ? 'not measured' : value <= goal ? 'met' : 'not met';
  const lines = [
    `seeded ${formatCount(first.accounts)} accounts (${Object.entries(first.rows)
      .map(([table, rows]) => `${table} ${formatCount(rows)}`)
      .join(
        ', ',
      )}) in ${first.postgresSeconds} s and ${formatCount(first.sessions)} sessions in ${first.redisSeconds} s`,
  ];
  if (first.sessions > 0) {
    lines.push(
      `Redis per live session: ${perSession} B by INFO used_memory (delta over M), ${perSessionSampled} B by MEMORY ` +
        `USAGE of sampled keys with their share of the user's index; goal <= ${redisBytesPerSessionGoal} B: ` +
        verdict(perSessionSampled, redisBytesPerSessionGoal),
    );
  }
  if (first.accounts > 0) {
    lines.push(
      `PostgreSQL per account: ${perAccount} B (tables, indexes and TOAST of ${Object.entries(
        first.tableBytes,
      )
        .map(([table, bytes]) => `${table} ${formatCount(bytes)} B`)
        .join(
          ', ',
        )}, over N); goal <= ${postgresBytesPerAccountGoal} B: ${verdict(perAccount, postgresBytesPerAccountGoal)}`,
    );
  }
  const explained = summaries.map((summary) => summary.explainedIndexed).find((entry) => entry !== null);
  if (explained !== undefined) {
    lines.push(
      `EXPLAIN: ${explained.indexed} of ${explained.scanning} hot queries read through an index; plans in ${explained.path}`,
    );
  }
  return lines;
}

/** Who-am-I, login, register and reset-request at the smallest and the largest scale, side by side. */
export function printScaleComparison(
  results: readonly ScaleResult[],
  betterAuthWhoamiRps: number | undefined,
): void {
  const sorted = [...results].sort((a, b) => a.accounts - b.accounts);
  const small = sorted[0];
  const big = sorted[sorted.length - 1];
  if (small === undefined || big === undefined) return;
  const smallRows = medianRows(small.rows);
  const bigRows = medianRows(big.rows);
  const find = (rows: readonly MedianRow[], name: string): MedianRow | undefined =>
    rows.find((row) => row.scenario === name);
  const label = (result: ScaleResult): string => `${formatCount(result.accounts)}`;
  const lines = [
    '',
    `## Side by side: ${label(small)} against ${label(big)} accounts and sessions`,
    '',
    `| scenario | rps at ${label(small)} | rps at ${label(big)} | rate | p99 ms at ${label(small)} | p99 ms at ${label(big)} | p99 | goal (rate >= ${scaleRateGoalShare * 100} %, p99 <= ${scaleP99GoalFactor}x) |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const name of scaleScenarioNames) {
    const before = find(smallRows, name);
    const after = find(bigRows, name);
    if (before === undefined || after === undefined) continue;
    const share = before.rps > 0 ? after.rps / before.rps : 0;
    // A p99 of 0 ms (below autocannon's resolution) counts as 1 ms, so the ratio stays finite.
    const factor = after.p99Ms / Math.max(1, before.p99Ms);
    const met = share >= scaleRateGoalShare && factor <= scaleP99GoalFactor;
    lines.push(
      `| ${name} | ${before.rps} | ${after.rps} | ${(share * 100).toFixed(0)} % | ${before.p99Ms} | ${after.p99Ms} | ` +
        `${factor.toFixed(2)}x | ${met ? 'met' : 'not met'} |`,
    );
  }
  lines.push('');
  for (const result of [small, big]) {
    const rows = result === small ? smallRows : bigRows;
    const goals: string[] = [];
    for (const [name, goal] of Object.entries(ceilingGoals)) {
      const share = find(rows, name)?.ceilingShare;
      if (share === null || share === undefined) continue;
      goals.push(
        `${name} ${(share * 100).toFixed(0)} % of the argon2id ceiling (goal >= ${goal * 100} %: ${share >= goal ? 'met' : 'not met'})`,
      );
    }
    if (betterAuthWhoamiRps !== undefined) {
      for (const name of ['whoami-bearer', 'whoami-cookie']) {
        const rps = find(rows, name)?.rps;
        if (rps === undefined) continue;
        const factor = rps / betterAuthWhoamiRps;
        goals.push(
          `${name} ${factor.toFixed(1)}x Better Auth's ${betterAuthWhoamiRps} (goal >= ${betterAuthWhoamiGoalFactor}x: ${factor >= betterAuthWhoamiGoalFactor ? 'met' : 'not met'})`,
        );
      }
    }
    lines.push(`at ${label(result)}: ${goals.length > 0 ? goals.join('; ') : 'no goal rows measured'}`);
    lines.push(...describeSeededScale(result.summaries).map((line) => `at ${label(result)}: ${line}`));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
