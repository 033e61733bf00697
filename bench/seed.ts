// `npm run bench -- --accounts N --sessions M`: the service's database and Redis as they look with N accounts
// and M live sessions, before any scenario runs. Accounts and what grows with them go in by SQL (one
// `insert … select generate_series` per table, one argon2id hash computed once with the service's own
// parameters); sessions go in through the service's own RedisSessionStore, so their keys, values, TTLs and
// per-user index are exactly what a login writes.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Session } from '../src/flows/model.ts';
import { hashPassword } from '../src/security/passwords.ts';
import { generateToken, hashToken } from '../src/security/tokens.ts';
import { createRedisClient, type RedisClient } from '../src/storage/redis/client.ts';
import { RedisSessionStore } from '../src/storage/redis/session-store.ts';
import { benchPassword } from './journey.ts';

/**
 * What grows with the accounts, as shares of N: one account in ten has not verified its address yet (its
 * verification link pending), one in ten has a reset link pending, every such link's mail has been sent,
 * and each account has logged in once (its audit event).
 */
export const seedShares = {
  unverifiedWithPendingLink: 0.1,
  pendingReset: 0.1,
  sentEmailsPerPendingLink: 1,
  auditEventsPerAccount: 1,
} as const;

/** A login's lifetime, as the service's default SESSION_LIFETIME_MINUTES gives it (7 days). */
const seededSessionLifetimeMilliseconds = 7 * 24 * 60 * 60 * 1000;
/** Sessions in flight at once while seeding: enough for auto-pipelining to fill each write. */
const sessionsInFlight = 2000;
/** Session keys whose MEMORY USAGE is read, with their users' index keys. */
const sampledSessions = 2000;
/** A current desktop browser's User-Agent: the longest field most sessions carry. */
const seededUserAgent =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

/** The tables that grow with the accounts (sessions too, where they live in PostgreSQL). */
export const perAccountTables = [
  'users',
  'user_tokens',
  'email_outbox',
  'audit_events',
  'sessions',
  'refresh_families',
  'refresh_tokens',
] as const;

export interface SeedTarget {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly accounts: number;
  readonly sessions: number;
}

export interface SeedResult {
  readonly accounts: number;
  readonly sessions: number;
  readonly rows: Record<string, number>;
  readonly postgresSeconds: number;
  readonly redisSeconds: number;
  /** INFO used_memory after the sessions less before, over M (other clients of a shared Redis add noise). */
  readonly redisBytesPerSessionByUsedMemory: number | null;
  /** MEMORY USAGE of sampled session keys plus their share of their users' index keys. */
  readonly redisBytesPerSessionSampled: number | null;
  /** pg_total_relation_size (table, indexes, TOAST) per table. */
  readonly tableBytes: Record<string, number>;
  /** Every per-account table's total over N. */
  readonly postgresBytesPerAccount: number | null;
}

/**
 * The id of the n-th seeded account: an MD5-shaped UUID, as scattered over the primary key's B-tree as the
 * random ids of real sign-ups, yet computable here to give each session its user.
 */
export function seededUserId(n: number): string {
  const hex = createHash('md5').update(`latchkey-seed-${n}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The address of the n-th seeded account, as built in SQL below. */
export function seededEmail(n: number): string {
  return `${firstNames[n % firstNames.length]}.${lastNames[Math.floor(n / firstNames.length) % lastNames.length]}${n}@${domains[n % domains.length]}`;
}

const firstNames = [
  'anna',
  'ben',
  'chloe',
  'david',
  'emma',
  'felix',
  'grace',
  'hugo',
  'ines',
  'jonas',
  'lea',
  'max',
];
const lastNames = [
  'meyer',
  'smith',
  'garcia',
  'novak',
  'keller',
  'brown',
  'rossi',
  'dubois',
  'jensen',
  'silva',
];
const domains = ['gmail.com', 'outlook.com', 'web.de', 'proton.me', 'example.org', 'mail.example.net'];

function sqlArray(values: readonly string[]): string {
  return `(array[${values.map((value) => `'${value}'`).join(',')}])`;
}

const seededEmailSql = `${sqlArray(firstNames)}[1 + n % ${firstNames.length}] || '.' ||
  ${sqlArray(lastNames)}[1 + (n / ${firstNames.length}) % ${lastNames.length}] || n || '@' ||
  ${sqlArray(domains)}[1 + n % ${domains.length}]`;
const seededUserIdSql = `md5('latchkey-seed-' || n)::uuid`;

/** Seeds the database (already migrated by the service) and Redis; measures what they cost per account and session. */
export async function seedScale(target: SeedTarget, say: (message: string) => void): Promise<SeedResult> {
  const client = new pg.Client({ connectionString: target.databaseUrl });
  await client.connect();
  const redis = createRedisClient({
    topology: { kind: 'url', url: target.redisUrl },
    keyPrefix: target.redisKeyPrefix,
  });
  redis.on('error', () => {});
  // Measurements name full keys: a client without the prefix.
  const plainRedis = new Redis(target.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const postgresStarted = performance.now();
    const rows = await seedPostgres(client, target.accounts, say);
    const postgresSeconds = (performance.now() - postgresStarted) / 1000;
    say(`seeded PostgreSQL in ${postgresSeconds.toFixed(1)} s: ${JSON.stringify(rows)}`);

    const usedBefore = await readUsedMemory(plainRedis);
    const redisStarted = performance.now();
    await seedSessions(redis, target.accounts, target.sessions, say);
    const redisSeconds = (performance.now() - redisStarted) / 1000;
    const usedAfter = await readUsedMemory(plainRedis);
    say(`seeded ${target.sessions} sessions in Redis in ${redisSeconds.toFixed(1)} s`);

    const tableBytes: Record<string, number> = {};
    for (const table of perAccountTables) {
      const result = await client.query<{ bytes: string }>(
        'select pg_total_relation_size($1::regclass) as bytes',
        [table],
      );
      tableBytes[table] = Number(result.rows[0]?.bytes ?? 0);
    }
    const totalBytes = Object.values(tableBytes).reduce((sum, bytes) => sum + bytes, 0);
    return {
      accounts: target.accounts,
      sessions: target.sessions,
      rows,
      postgresSeconds: Number(postgresSeconds.toFixed(1)),
      redisSeconds: Number(redisSeconds.toFixed(1)),
      redisBytesPerSessionByUsedMemory:
        target.sessions > 0 ? Math.round((usedAfter - usedBefore) / target.sessions) : null,
      redisBytesPerSessionSampled:
        target.sessions > 0
          ? await sampleSessionMemory(plainRedis, target.redisKeyPrefix, target.accounts, target.sessions)
          : null,
      tableBytes,
      postgresBytesPerAccount: target.accounts > 0 ? Math.round(totalBytes / target.accounts) : null,
    };
  } finally {
    await client.end();
    redis.disconnect();
    plainRedis.disconnect();
  }
}

async function seedPostgres(
  client: pg.Client,
  accounts: number,
  say: (message: string) => void,
): Promise<Record<string, number>> {
  if (accounts === 0) return {};
  // One hash for every account, with the parameters the service hashes with: verifying it costs what
  // verifying a real account's does.
  const passwordHash = await hashPassword(benchPassword);
  const series = `generate_series(1, ${accounts}) as n`;
  const unverifiedEvery = Math.round(1 / seedShares.unverifiedWithPendingLink);
  const resetEvery = Math.round(1 / seedShares.pendingReset);
  const resetOffset = Math.floor(resetEvery / 2);
  const statements: [string, string, unknown[]][] = [
    [
      'users',
      // Signed up over the last year; one in five chose German.
      `insert into users (id, email, email_key, password_hash, is_active, is_verified, created_at, updated_at, locale)
       select ${seededUserIdSql}, e.email, lower(e.email), $1, true, n % ${unverifiedEvery} <> 0,
              now() - (n % 365) * interval '1 day' - (n % 86400) * interval '1 second',
              now() - (n % 365) * interval '1 day' - (n % 86400) * interval '1 second',
              case when n % 5 = 0 then 'de' end
       from ${series}, lateral (select ${seededEmailSql} as email) e`,
      [passwordHash],
    ],
    [
      'user_tokens (verification)',
      `insert into user_tokens (token_hash, purpose, user_id, expires_at, created_at)
       select encode(sha256(('seed-verify-' || n)::bytea), 'hex'), 'email_verification', ${seededUserIdSql},
              now() + interval '1 day', now()
       from ${series} where n % ${unverifiedEvery} = 0`,
      [],
    ],
    [
      'user_tokens (reset)',
      `insert into user_tokens (token_hash, purpose, user_id, expires_at, created_at)
       select encode(sha256(('seed-reset-' || n)::bytea), 'hex'), 'password_reset', ${seededUserIdSql},
              now() + interval '1 hour', now()
       from ${series} where n % ${resetEvery} = ${resetOffset}`,
      [],
    ],
    [
      'email_outbox',
      // The links' mail, sent: the payload is cleared once a message is sent.
      `insert into email_outbox (id, message_id, recipient, template, payload, status, attempts, next_attempt_at,
                                 created_at, sent_at)
       select u, '<' || u || '@mail.latchkey.test>', e.email,
              case when n % ${unverifiedEvery} = 0 then 'verify_email' else 'password_reset' end,
              null, 'sent', 1, now(), now(), now()
       from ${series}, lateral (select gen_random_uuid() as u, ${seededEmailSql} as email) e
       where n % ${unverifiedEvery} = 0 or n % ${resetEvery} = ${resetOffset}`,
      [],
    ],
    [
      'audit_events',
      `insert into audit_events (occurred_at, event, outcome, user_id, ip, user_agent, actor, request_id)
       select now() - (n % 30) * interval '1 day', 'login', 'success', ${seededUserIdSql},
              '198.51.100.' || (n % 250), $1, 'self', 'req-' || n
       from ${series}`,
      [seededUserAgent],
    ],
  ];
  const rows: Record<string, number> = {};
  for (const [label, statement, parameters] of statements) {
    const started = performance.now();
    const result = await client.query(statement, parameters);
    rows[label] = result.rowCount ?? 0;
    say(`  ${label}: ${result.rowCount} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  // A database that has been running has statistics and a visibility map: plans and sizes as in production.
  for (const table of perAccountTables) await client.query(`vacuum analyze ${table}`);
  return rows;
}

/** M live sessions, spread over the N accounts (several for some), each written by the service's own store. */
async function seedSessions(
  redis: RedisClient,
  accounts: number,
  sessions: number,
  say: (message: string) => void,
): Promise<void> {
  if (sessions === 0) return;
  if (accounts === 0) throw new Error('--sessions needs --accounts: a session belongs to an account');
  const store = new RedisSessionStore(redis);
  const now = Date.now();
  const reportEvery = Math.max(
    sessionsInFlight,
    Math.round(sessions / 10 / sessionsInFlight) * sessionsInFlight,
  );
  for (let first = 0; first < sessions; first += sessionsInFlight) {
    const last = Math.min(sessions, first + sessionsInFlight);
    const batch: Promise<void>[] = [];
    for (let i = first; i < last; i++) batch.push(store.createSession(seededSession(i, accounts, now)));
    await Promise.all(batch);
    if (last % reportEvery === 0) say(`  sessions: ${last}`);
  }
}

function seededSession(i: number, accounts: number, now: number): Session {
  const n = (i % accounts) + 1;
  // Logged in at some point of the last week, so they expire spread over the next one.
  const createdAt = new Date(now - (i % 1000) * 600_000);
  return {
    tokenHash: hashToken(generateToken()),
    userId: seededUserId(n),
    email: seededEmail(n),
    isActive: true,
    isVerified: n % Math.round(1 / seedShares.unverifiedWithPendingLink) !== 0,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + seededSessionLifetimeMilliseconds),
    lastSeenAt: createdAt,
    ip: `203.0.113.${i % 250}`,
    userAgent: seededUserAgent,
    refreshFamilyId: null,
  };
}

async function readUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /used_memory:(\d+)/.exec(info);
  return Number(match?.[1] ?? 0);
}

/**
 * MEMORY USAGE of sampled session keys, plus each one's share of its user's index: independent of the other
 * clients of a shared Redis, unlike the used_memory delta.
 */
async function sampleSessionMemory(
  redis: Redis,
  prefix: string,
  accounts: number,
  sessions: number,
): Promise<number> {
  let total = 0;
  let sampled = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}session:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys.slice(0, sampledSessions - sampled)) {
      const bytes = await redis.memory('USAGE', key, 'SAMPLES', 0);
      if (bytes !== null) {
        total += bytes;
        sampled++;
      }
    }
  } while (cursor !== '0' && sampled < sampledSessions);
  if (sampled === 0) return 0;
  // Each user's index holds M / N members (at least one): a session's share is the index over its members.
  let indexTotal = 0;
  let indexSampled = 0;
  for (let n = 1; n <= Math.min(accounts, sampledSessions); n++) {
    const bytes = await redis.memory('USAGE', `${prefix}user-sessions:${seededUserId(n)}`, 'SAMPLES', 0);
    if (bytes !== null) {
      indexTotal += bytes;
      indexSampled++;
    }
  }
  const sessionsPerIndexedUser = sessions / Math.min(accounts, sessions);
  const indexShare = indexSampled === 0 ? 0 : indexTotal / indexSampled / sessionsPerIndexedUser;
  return Math.round(total / sampled + indexShare);
}
