// The `housekeeping-under-load` scenario: about a million expired rows of every kind the clean-up deletes, then
// who-am-I at a fixed 500 req/s while one clean-up pass runs to completion. The pass is the service's own code
// (flows/housekeeping.ts over the PostgreSQL stores, with the service's statement timeout), run from the bench
// process so it starts at a known moment instead of at a random point of CLEANUP_INTERVAL_SECONDS.
import autocannon from 'autocannon';
import pg from 'pg';
import { systemClock } from '../src/composition/system-clock.ts';
import { deleteEndedRefreshFamilies, deleteExpiredRecords } from '../src/flows/housekeeping.ts';
import { openDatabase } from '../src/storage/postgres/database.ts';
import { PostgresExpiredRecordsStore } from '../src/storage/postgres/housekeeping.ts';
import { PostgresRefreshFamilyStore } from '../src/storage/postgres/refresh-family-store.ts';
import type { Measured } from './scenarios.ts';

/** who-am-I offered at this rate, on this many connections, while the pass runs. */
export const housekeepingWhoamiRate = 500;
const housekeepingWhoamiConnections = 10;
/** The goal: who-am-I's p99 while a pass deletes a million rows. */
export const housekeepingWhoamiP99GoalMilliseconds = 50;
/** Load before the pass starts and after it ends, so the row covers the whole pass and its edges. */
const loadMarginMilliseconds = 2000;
/** The same load without a pass, just before: what the p99 is on this machine at that moment. */
const controlSeconds = 5;
/** The service's default DATABASE_STATEMENT_TIMEOUT_MS: no batch may take longer. */
const statementTimeoutMilliseconds = 5000;
/** The service's default REFRESH_TOKEN_IDLE_DAYS. */
const refreshIdleDays = 30;

/** Shares of the expired rows, by what the pass deletes. */
const expiredShares = {
  tokens: 0.4,
  sessions: 0.2,
  refreshFamilies: 0.1,
  emails: 0.15,
  auditEvents: 0.15,
} as const;

export interface HousekeepingLoadContext {
  readonly url: string;
  readonly databaseUrl: string;
  readonly bearerToken: string;
  readonly expiredRows: number;
  /** Seeded accounts to own the expired rows (0: a thousand owners are added). */
  readonly accounts: number;
}

/** Inserts the expired rows; returns how many of each. */
async function seedExpiredRows(
  client: pg.Client,
  expiredRows: number,
  accounts: number,
): Promise<Record<string, number>> {
  let owners = accounts;
  let ownerSql = (n: string): string => `md5('latchkey-seed-' || (1 + (${n} % ${owners})))::uuid`;
  if (accounts === 0) {
    owners = 1000;
    await client.query(
      `insert into users (id, email, email_key, password_hash, is_verified)
       select md5('expired-owner-' || n)::uuid, 'expired-owner-' || n || '@example.com',
              'expired-owner-' || n || '@example.com', 'x', true
       from generate_series(1, ${owners}) as n`,
    );
    ownerSql = (n: string): string => `md5('expired-owner-' || (1 + (${n} % ${owners})))::uuid`;
  }
  const count = (share: number): number => Math.round(expiredRows * share);
  const counts = {
    tokens: count(expiredShares.tokens),
    sessions: count(expiredShares.sessions),
    refreshFamilies: count(expiredShares.refreshFamilies),
    emails: count(expiredShares.emails),
    auditEvents: count(expiredShares.auditEvents),
  };
  // Half the links expired unused, half were used: both are past the day of retention.
  await client.query(
    `insert into user_tokens (token_hash, purpose, user_id, expires_at, consumed_at, created_at)
     select encode(sha256(('expired-token-' || n)::bytea), 'hex'), 'password_reset', ${ownerSql('n')},
            now() - interval '2 days', case when n % 2 = 0 then now() - interval '3 days' end, now() - interval '3 days'
     from generate_series(1, ${counts.tokens}) as n`,
  );
  await client.query(
    `insert into sessions (token_hash, user_id, email, is_active, is_verified, created_at, expires_at, last_seen_at)
     select encode(sha256(('expired-session-' || n)::bytea), 'hex'), ${ownerSql('n')}, 'someone@example.com',
            true, true, now() - interval '8 days', now() - interval '1 day', now() - interval '2 days'
     from generate_series(1, ${counts.sessions}) as n`,
  );
  await client.query(
    `insert into refresh_families (id, user_id, generation, created_at, expires_at, last_used_at, rotated_at)
     select md5('expired-family-' || n)::uuid, ${ownerSql('n')}, 1, now() - interval '40 days',
            now() - interval '2 days', now() - interval '35 days', now() - interval '35 days'
     from generate_series(1, ${counts.refreshFamilies}) as n`,
  );
  await client.query(
    `insert into refresh_tokens (token_hash, family_id, generation, session_token_hash)
     select encode(sha256(('expired-refresh-' || n)::bytea), 'hex'), md5('expired-family-' || n)::uuid, 1,
            encode(sha256(('expired-session-' || n)::bytea), 'hex')
     from generate_series(1, ${counts.refreshFamilies}) as n`,
  );
  await client.query(
    `insert into email_outbox (id, message_id, recipient, template, status, attempts, next_attempt_at, created_at, sent_at)
     select md5('expired-email-' || n)::uuid, '<expired-' || n || '@mail.latchkey.test>', 'someone@example.com',
            'password_reset', 'sent', 1, now() - interval '8 days', now() - interval '8 days', now() - interval '8 days'
     from generate_series(1, ${counts.emails}) as n`,
  );
  await client.query(
    `insert into audit_events (occurred_at, event, outcome, user_id, ip, actor)
     select now() - interval '100 days', 'login', 'success', ${ownerSql('n')}, '198.51.100.1', 'self'
     from generate_series(1, ${counts.auditEvents}) as n`,
  );
  for (const table of [
    'user_tokens',
    'sessions',
    'refresh_families',
    'refresh_tokens',
    'email_outbox',
    'audit_events',
  ]) {
    await client.query(`vacuum analyze ${table}`);
  }
  return counts;
}

/** One pass, as the service's housekeeping runs it; returns its seconds and what it deleted. */
async function runCleanupPass(
  databaseUrl: string,
): Promise<{ seconds: number; deleted: Record<string, number> }> {
  const database = await openDatabase({
    databaseUrl,
    dataDir: '',
    poolSize: 2,
    statementTimeoutMilliseconds,
  });
  try {
    const started = performance.now();
    const deleted = await deleteExpiredRecords(new PostgresExpiredRecordsStore(database.db), systemClock);
    const refreshFamilies = await deleteEndedRefreshFamilies(
      new PostgresRefreshFamilyStore(database.db),
      systemClock,
      refreshIdleDays * 24 * 60 * 60,
    );
    return {
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      deleted: { ...deleted, refreshFamilies },
    };
  } finally {
    await database.close();
  }
}

/** Seeds, then loads who-am-I at a fixed rate from before the pass starts until after it ends. */
export async function measureHousekeepingUnderLoad(
  context: HousekeepingLoadContext,
  say: (message: string) => void,
): Promise<Measured[]> {
  const client = new pg.Client({ connectionString: context.databaseUrl });
  await client.connect();
  let seeded: Record<string, number>;
  try {
    const started = performance.now();
    seeded = await seedExpiredRows(client, context.expiredRows, context.accounts);
    say(
      `expired rows seeded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(seeded)}`,
    );
  } finally {
    await client.end();
  }
  const whoamiLoad = {
    url: `${context.url}/me`,
    connections: housekeepingWhoamiConnections,
    overallRate: housekeepingWhoamiRate,
    headers: { authorization: `Bearer ${context.bearerToken}` },
    timeout: 10,
  };
  const control = await autocannon({ ...whoamiLoad, duration: controlSeconds });
  let settle: { resolve(result: autocannon.Result): void; reject(error: Error): void } | undefined;
  const result = new Promise<autocannon.Result>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const load = autocannon(
    // Stopped once the pass is over; the duration only bounds a pass that never ends.
    { ...whoamiLoad, duration: 3600 },
    (error, finished) => (error ? settle?.reject(error) : settle?.resolve(finished)),
  );
  await new Promise((resolve) => setTimeout(resolve, loadMarginMilliseconds));
  const pass = await runCleanupPass(context.databaseUrl);
  say(`clean-up pass: ${pass.seconds} s, deleted ${JSON.stringify(pass.deleted)}`);
  await new Promise((resolve) => setTimeout(resolve, loadMarginMilliseconds));
  load.stop();
  const measured = await result;
  const deletedTotal = Object.values(pass.deleted).reduce((sum, rows) => sum + rows, 0);
  return [
    {
      ...rowOf('housekeeping-under-load', measured),
      note:
        `GET /me at ${housekeepingWhoamiRate} req/s while one clean-up pass deleted ${deletedTotal} rows ` +
        `(${JSON.stringify(pass.deleted)}) in ${pass.seconds} s; p99 goal <= ${housekeepingWhoamiP99GoalMilliseconds} ms`,
      housekeeping: { passSeconds: pass.seconds, deleted: pass.deleted, seeded },
    },
    {
      ...rowOf('housekeeping-under-load (no pass)', control),
      note: `the same load for ${controlSeconds} s just before the pass: this machine's p99 at that moment`,
    },
  ];
}

function rowOf(scenario: string, result: autocannon.Result): Measured {
  return {
    scenario,
    connections: housekeepingWhoamiConnections,
    rps: Number(result.requests.average.toFixed(1)),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    ok: result['2xx'],
    peakRssMb: 0,
  };
}
