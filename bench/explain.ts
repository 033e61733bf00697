// `npm run bench -- --explain`: the plan of every hot query of src/storage/postgres against the seeded
// database, and whether each reads through an index. Reads run EXPLAIN ANALYZE (they change nothing); writes
// run plain EXPLAIN, so the seeded rows stay as they are.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { seededEmail, seededUserId } from './seed.ts';

/** One query as its store sends it (the store's method named), with parameters that find seeded rows. */
interface HotQuery {
  readonly name: string;
  readonly store: string;
  readonly sql: string;
  readonly parameters: readonly unknown[];
  readonly write: boolean;
}

export interface ExplainedQuery {
  readonly name: string;
  readonly store: string;
  /** An index scan (plain, index-only or bitmap) reads the table, and no sequential scan does. */
  readonly indexed: boolean;
  /** Inserts scan nothing: their plan has no scan to judge. */
  readonly scans: boolean;
  readonly plan: string;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Sessions (as embedded mode keeps them in PostgreSQL) and refresh families with their tokens, M and M / 10 of
 * them over the seeded accounts: their queries are hot too, and a plan over an empty table says nothing.
 */
export async function seedPostgresSessions(
  client: pg.Client,
  accounts: number,
  sessions: number,
): Promise<void> {
  const userOf = (n: string): string => `md5('latchkey-seed-' || (1 + (${n} % ${accounts})))::uuid`;
  await client.query(
    `insert into sessions (token_hash, user_id, email, is_active, is_verified, created_at, expires_at, last_seen_at, ip, user_agent)
     select encode(sha256(('seed-session-' || n)::bytea), 'hex'), ${userOf('n')}, 'seeded@example.com', true, true,
            now(), now() + interval '7 days', now(), '203.0.113.1', 'Mozilla/5.0'
     from generate_series(1, ${sessions}) as n`,
  );
  const families = Math.max(1, Math.floor(sessions / 10));
  await client.query(
    `insert into refresh_families (id, user_id, generation, created_at, expires_at, last_used_at, rotated_at)
     select md5('seed-family-' || n)::uuid, ${userOf('n')}, 1, now(), now() + interval '30 days', now(), now()
     from generate_series(1, ${families}) as n`,
  );
  await client.query(
    `insert into refresh_tokens (token_hash, family_id, generation, session_token_hash)
     select encode(sha256(('seed-refresh-' || n)::bytea), 'hex'), md5('seed-family-' || n)::uuid, 1,
            encode(sha256(('seed-session-' || n)::bytea), 'hex')
     from generate_series(1, ${families}) as n`,
  );
  for (const table of ['sessions', 'refresh_families', 'refresh_tokens'])
    await client.query(`vacuum analyze ${table}`);
}

function hotQueries(accounts: number): HotQuery[] {
  const n = Math.max(1, Math.floor(accounts / 2));
  const userId = seededUserId(n);
  const email = seededEmail(n).toLowerCase();
  const now = new Date().toISOString();
  const sessionHash = sha256Hex('seed-session-1');
  const userColumns =
    'id, email, email_key, password_hash, is_active, is_verified, created_at, locale, deleted_at';
  return [
    {
      name: 'user by email (login, register, reset-request)',
      store: 'PostgresUserStore.findUserByEmailKey',
      sql: `select ${userColumns} from users where email_key = $1 limit 1`,
      parameters: [email],
      write: false,
    },
    {
      name: 'user by id',
      store: 'PostgresUserStore.findUserById',
      sql: `select ${userColumns} from users where id = $1 limit 1`,
      parameters: [userId],
      write: false,
    },
    {
      name: 'user by id, locked (password change, email change)',
      store: 'PostgresUserStore (select … for update)',
      sql: `select ${userColumns} from users where id = $1 limit 1 for update`,
      parameters: [userId],
      write: true,
    },
    {
      name: 'mark verified',
      store: 'PostgresUserStore.markUserVerified',
      sql: `update users set is_verified = true, updated_at = now() where id = $1`,
      parameters: [userId],
      write: true,
    },
    {
      name: 'token by hash',
      store: 'PostgresTokenStore.findValidToken',
      sql: `select user_id, email from user_tokens
            where token_hash = $1 and purpose = $2 and consumed_at is null and expires_at > $3 limit 1`,
      parameters: [sha256Hex('seed-reset-5'), 'password_reset', now],
      write: false,
    },
    {
      name: 'consume token',
      store: 'PostgresTokenStore.consumeToken',
      sql: `update user_tokens set consumed_at = $3
            where token_hash = $1 and purpose = $2 and consumed_at is null and expires_at > $3
            returning user_id, email`,
      parameters: [sha256Hex('seed-reset-5'), 'password_reset', now],
      write: true,
    },
    {
      name: "invalidate a user's tokens (each reset request, each verification)",
      store: 'PostgresTokenStore.invalidateUserTokens',
      sql: `update user_tokens set consumed_at = $3 where user_id = $1 and purpose = $2 and consumed_at is null`,
      parameters: [userId, 'password_reset', now],
      write: true,
    },
    {
      name: 'outbox claim',
      store: 'PostgresOutboxQueue.claimDueEmails',
      sql: `update email_outbox set status = 'processing', locked_until = $2, attempts = attempts + 1
            where id in (
              select id from email_outbox
              where (status = 'queued' and next_attempt_at <= $1) or (status = 'processing' and locked_until <= $1)
              order by next_attempt_at limit 10 for update skip locked)
            returning id, message_id, payload, attempts, created_at`,
      parameters: [now, now],
      write: true,
    },
    {
      name: 'outbox insert',
      store: 'PostgresTransactor (enqueueEmail)',
      sql: `insert into email_outbox (id, message_id, recipient, template, payload)
            values (gen_random_uuid(), $1, $2, 'password_reset', 'sealed')`,
      parameters: ['<explain@mail.latchkey.test>', email],
      write: true,
    },
    {
      name: 'audit insert',
      store: 'PostgresAuditTrail.recordAuditEvent',
      sql: `insert into audit_events (occurred_at, event, outcome, user_id, ip, user_agent, actor, request_id)
            values (now(), 'login', 'success', $1, '203.0.113.1', 'Mozilla/5.0', 'self', 'req-explain')`,
      parameters: [userId],
      write: true,
    },
    {
      name: 'session by token (embedded mode)',
      store: 'PostgresSessionStore.findSession',
      sql: `select * from sessions where token_hash = $1 and expires_at > $2 limit 1`,
      parameters: [sessionHash, now],
      write: false,
    },
    {
      name: "a user's sessions (embedded mode: the session list, log out everywhere)",
      store: 'PostgresSessionStore.listUserSessions',
      sql: `select * from sessions where user_id = $1 and expires_at > $2`,
      parameters: [seededUserId(2), now],
      write: false,
    },
    {
      name: 'touch session (embedded mode)',
      store: 'PostgresSessionStore.touchSession',
      sql: `update sessions set last_seen_at = $2 where token_hash = $1`,
      parameters: [sessionHash, now],
      write: true,
    },
    {
      name: 'refresh token by hash',
      store: 'PostgresRefreshFamilyStore.findTokenOwner',
      sql: `select f.*, t.generation as token_generation, c.token_hash as current_token_hash
            from refresh_tokens t
            join refresh_families f on f.id = t.family_id
            left join refresh_tokens c on c.family_id = f.id and c.generation = f.generation
            where t.token_hash = $1`,
      parameters: [sha256Hex('seed-refresh-1')],
      write: false,
    },
    {
      name: 'refresh family of a session (logout)',
      store: 'PostgresRefreshFamilyStore.findFamilyIdOfSession',
      sql: `select family_id from refresh_tokens where session_token_hash = $1 limit 1`,
      parameters: [sessionHash],
      write: false,
    },
    {
      name: "a user's logins (admin user view)",
      store: 'PostgresUserDirectory',
      sql: `select count(*) from audit_events where user_id = $1 and event = 'login' and outcome = 'success'`,
      parameters: [userId],
      write: false,
    },
  ];
}

/** EXPLAINs every hot query in `databaseUrl` (seeded with `accounts` accounts). */
export async function explainHotQueries(databaseUrl: string, accounts: number): Promise<ExplainedQuery[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const explained: ExplainedQuery[] = [];
    for (const query of hotQueries(accounts)) {
      // Writes are planned, never run: inside a transaction rolled back anyway, in case a plan is executed.
      await client.query('begin');
      try {
        const result = await client.query<{ 'QUERY PLAN': string }>(
          `explain (${query.write ? 'costs' : 'analyze, buffers'}) ${query.sql}`,
          [...query.parameters],
        );
        const plan = result.rows.map((row) => row['QUERY PLAN']).join('\n');
        const scans = /Scan/.test(plan);
        explained.push({
          name: query.name,
          store: query.store,
          scans,
          indexed: scans && /Index (Only )?Scan|Bitmap Index Scan/.test(plan) && !/Seq Scan/.test(plan),
          plan,
        });
      } finally {
        await client.query('rollback');
      }
    }
    return explained;
  } finally {
    await client.end();
  }
}

/** The plans as Markdown, for a file to commit beside the figures. */
export function describePlans(
  explained: readonly ExplainedQuery[],
  accounts: number,
  sessions: number,
): string {
  const lines = [
    `# Plans of the hot queries at ${accounts.toLocaleString('en')} accounts and ${sessions.toLocaleString('en')} sessions`,
    '',
    'Written by `npm run bench -- --explain` (bench/explain.ts). Reads: EXPLAIN (ANALYZE, BUFFERS); writes: EXPLAIN.',
    '',
    '| query | store | reads through |',
    '|---|---|---|',
    ...explained.map(
      (query) =>
        `| ${query.name} | ${query.store} | ${query.scans ? (query.indexed ? 'index' : '**sequential scan**') : 'no scan (insert)'} |`,
    ),
    '',
  ];
  for (const query of explained) {
    lines.push(`## ${query.name}`, '', `${query.store}`, '', '```', query.plan, '```', '');
  }
  return lines.join('\n');
}
