import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  deleteEndedRefreshFamilies,
  deleteExpiredRecords,
  expiredTokenRetentionSeconds,
  finishedEmailRetentionSeconds,
  finishedWebhookRetentionSeconds,
  startHousekeeping,
} from '../../src/flows/housekeeping.ts';
import type { DeletedRecordCounts, ExpiredRecordsStore } from '../../src/flows/ports.ts';
import type { Database } from '../../src/storage/postgres/database.ts';
import { readOutboxStats } from '../../src/storage/postgres/email-outbox.ts';
import { cleanupBatchRows } from '../../src/storage/postgres/batched-delete.ts';
import { PostgresExpiredRecordsStore } from '../../src/storage/postgres/housekeeping.ts';
import { PostgresRefreshFamilyStore } from '../../src/storage/postgres/refresh-family-store.ts';
import { availableDatabaseKinds, insertTestUser, openTestDatabase } from '../support/database.ts';

const hourMilliseconds = 60 * 60 * 1000;
const dayMilliseconds = 24 * hourMilliseconds;

for (const kind of availableDatabaseKinds()) {
  describe(`expired records clean-up (${kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`, () => {
    let database: Database;
    let userId: string;

    before(async () => {
      database = await openTestDatabase(kind);
    });
    after(async () => {
      await database?.close();
    });
    beforeEach(async () => {
      await database.pool.query('delete from email_outbox');
      await database.pool.query('delete from users');
      userId = await insertTestUser(database);
    });

    async function insertToken(label: string, fields: { expiresAt: Date; consumedAt?: Date }): Promise<void> {
      await database.pool.query(
        `insert into user_tokens (token_hash, purpose, user_id, expires_at, consumed_at)
         values ($1, 'password_reset', $2, $3, $4)`,
        [label, userId, fields.expiresAt, fields.consumedAt ?? null],
      );
    }

    async function insertSession(label: string, expiresAt: Date): Promise<void> {
      await database.pool.query(
        `insert into sessions (token_hash, user_id, email, is_active, is_verified, created_at, expires_at)
         values ($1, $2, 'someone@example.com', true, true, now(), $3)`,
        [label, userId, expiresAt],
      );
    }

    async function insertEmail(
      label: string,
      fields: { status: string; createdAt: Date; sentAt?: Date },
    ): Promise<void> {
      await database.pool.query(
        `insert into email_outbox (id, message_id, recipient, template, status, created_at, next_attempt_at, sent_at)
         values ($1, $2, 'someone@example.com', 'verify_email', $3, $4, $4, $5)`,
        [randomUUID(), label, fields.status, fields.createdAt, fields.sentAt ?? null],
      );
    }

    async function listLabels(): Promise<{ tokens: string[]; sessions: string[]; emails: string[] }> {
      const column = async (query: string): Promise<string[]> =>
        (await database.pool.query<{ label: string }>(query)).rows.map((row) => row.label).sort();
      return {
        tokens: await column('select token_hash as label from user_tokens'),
        sessions: await column('select token_hash as label from sessions'),
        emails: await column('select message_id as label from email_outbox'),
      };
    }

    test('deletes tokens a day past expiry or use, expired sessions and week-old finished mail; keeps the rest', async () => {
      const now = Date.now();
      const ago = (milliseconds: number): Date => new Date(now - milliseconds);
      await insertToken('token-live', { expiresAt: new Date(now + hourMilliseconds) });
      await insertToken('token-expired-an-hour-ago', { expiresAt: ago(hourMilliseconds) });
      await insertToken('token-expired-two-days-ago', { expiresAt: ago(2 * dayMilliseconds) });
      await insertToken('token-used-an-hour-ago', {
        expiresAt: new Date(now + hourMilliseconds),
        consumedAt: ago(hourMilliseconds),
      });
      await insertToken('token-used-two-days-ago', {
        expiresAt: new Date(now + hourMilliseconds),
        consumedAt: ago(2 * dayMilliseconds),
      });
      await insertSession('session-live', new Date(now + hourMilliseconds));
      await insertSession('session-expired', ago(1000));
      await insertEmail('email-sent-yesterday', {
        status: 'sent',
        createdAt: ago(dayMilliseconds),
        sentAt: ago(dayMilliseconds),
      });
      await insertEmail('email-sent-eight-days-ago', {
        status: 'sent',
        createdAt: ago(8 * dayMilliseconds),
        sentAt: ago(8 * dayMilliseconds),
      });
      await insertEmail('email-abandoned-eight-days-ago', {
        status: 'abandoned',
        createdAt: ago(8 * dayMilliseconds),
      });
      await insertEmail('email-queued-eight-days-ago', {
        status: 'queued',
        createdAt: ago(8 * dayMilliseconds),
      });
      await insertEmail('email-processing-eight-days-ago', {
        status: 'processing',
        createdAt: ago(8 * dayMilliseconds),
      });

      const deleted = await deleteExpiredRecords(new PostgresExpiredRecordsStore(database.db), {
        now: () => new Date(now),
      });

      assert.deepEqual(deleted, {
        tokens: 2,
        sessions: 1,
        emails: 2,
        accounts: 0,
        auditEvents: 0,
        webhookDeliveries: 0,
      });
      assert.deepEqual(await listLabels(), {
        tokens: ['token-expired-an-hour-ago', 'token-live', 'token-used-an-hour-ago'],
        sessions: ['session-live'],
        emails: ['email-processing-eight-days-ago', 'email-queued-eight-days-ago', 'email-sent-yesterday'],
      });
    });

    test('several clean-ups at once delete every expired row exactly once, and no other', async () => {
      const old = new Date(Date.now() - 2 * dayMilliseconds);
      const oldEmail = new Date(Date.now() - 8 * dayMilliseconds);
      await database.pool.query(
        `insert into user_tokens (token_hash, purpose, user_id, expires_at)
         select 'expired-' || n, 'email_verification', $1, $2 from generate_series(1, 2500) as n`,
        [userId, old],
      );
      await database.pool.query(
        `insert into email_outbox (id, message_id, recipient, template, status, created_at, next_attempt_at, sent_at)
         select gen_random_uuid(), 'sent-' || n, 'someone@example.com', 'verify_email', 'sent', $1, $1, $1
         from generate_series(1, 1500) as n`,
        [oldEmail],
      );
      await insertToken('token-live', { expiresAt: new Date(Date.now() + hourMilliseconds) });
      await insertEmail('email-queued', { status: 'queued', createdAt: oldEmail });
      const clock = { now: () => new Date() };

      const results = await Promise.all(
        [1, 2, 3].map(() => deleteExpiredRecords(new PostgresExpiredRecordsStore(database.db), clock)),
      );
      // A batch skips rows another clean-up holds, so one pass may leave some for the next.
      const again = await deleteExpiredRecords(new PostgresExpiredRecordsStore(database.db), clock);

      const total = [...results, again].reduce(
        (sum, counts) => ({
          tokens: sum.tokens + counts.tokens,
          sessions: sum.sessions + counts.sessions,
          emails: sum.emails + counts.emails,
          accounts: sum.accounts + counts.accounts,
          auditEvents: sum.auditEvents + counts.auditEvents,
          webhookDeliveries: sum.webhookDeliveries + counts.webhookDeliveries,
        }),
        { tokens: 0, sessions: 0, emails: 0, accounts: 0, auditEvents: 0, webhookDeliveries: 0 },
      );
      assert.deepEqual(total, {
        tokens: 2500,
        sessions: 0,
        emails: 1500,
        accounts: 0,
        auditEvents: 0,
        webhookDeliveries: 0,
      });
      assert.deepEqual(await listLabels(), {
        tokens: ['token-live'],
        sessions: [],
        emails: ['email-queued'],
      });
    });

    test('one pass deletes more expired rows than several batches hold, in every table, and keeps the live ones', async () => {
      const expiredRows = 2 * cleanupBatchRows + 1;
      const now = Date.now();
      const old = new Date(now - 2 * dayMilliseconds);
      const oldEmail = new Date(now - 8 * dayMilliseconds);
      const oldAudit = new Date(now - 91 * dayMilliseconds);
      const series = `generate_series(1, ${expiredRows}) as n`;
      await database.pool.query('delete from audit_events');
      await database.pool.query(
        `insert into user_tokens (token_hash, purpose, user_id, expires_at)
         select 'expired-' || n, 'password_reset', $1, $2 from ${series}`,
        [userId, old],
      );
      await database.pool.query(
        `insert into sessions (token_hash, user_id, email, is_active, is_verified, created_at, expires_at)
         select 'ended-' || n, $1, 'someone@example.com', true, true, $2, $2 from ${series}`,
        [userId, old],
      );
      await database.pool.query(
        `insert into email_outbox (id, message_id, recipient, template, status, created_at, next_attempt_at, sent_at)
         select gen_random_uuid(), 'sent-' || n, 'someone@example.com', 'verify_email', 'sent', $1, $1, $1
         from ${series}`,
        [oldEmail],
      );
      await database.pool.query(
        `insert into audit_events (occurred_at, event, outcome, user_id, actor)
         select $1, 'login', 'success', $2, 'user' from ${series}`,
        [oldAudit, userId],
      );
      await database.pool.query(
        `insert into users (email, email_key, password_hash, deleted_at)
         select 'gone-' || n || '@example.com', 'gone-' || n || '@example.com', 'x', $1 from ${series}`,
        [oldEmail],
      );
      await database.pool.query(
        `insert into refresh_families (id, user_id, generation, created_at, expires_at, last_used_at, rotated_at)
         select gen_random_uuid(), $1, 1, $2, $2, $2, $2 from ${series}`,
        [userId, old],
      );
      await database.pool.query(
        `insert into webhook_deliveries (webhook_id, endpoint_url, event_type, payload, status, created_at)
         select 'msg_old_' || n, 'https://hooks.example.com/', 'user.login', '{}',
                case when n % 2 = 0 then 'delivered' else 'abandoned' end, $1
         from ${series}`,
        [oldEmail],
      );
      await database.pool.query(
        `insert into webhook_deliveries (webhook_id, endpoint_url, event_type, payload, status, created_at)
         values ('msg_waiting', 'https://hooks.example.com/', 'user.login', '{}', 'pending', $1)`,
        [oldEmail],
      );
      const liveFamily = randomUUID();
      const future = new Date(now + dayMilliseconds);
      await database.pool.query(
        `insert into refresh_families (id, user_id, generation, created_at, expires_at, last_used_at, rotated_at)
         values ($1, $2, 1, now(), $3, now(), now())`,
        [liveFamily, userId, future],
      );
      await insertToken('token-live', { expiresAt: new Date(now + hourMilliseconds) });
      await insertSession('session-live', new Date(now + hourMilliseconds));
      await insertEmail('email-sent-yesterday', {
        status: 'sent',
        createdAt: old,
        sentAt: new Date(now - dayMilliseconds),
      });
      const clock = { now: () => new Date(now) };

      const counts = await deleteExpiredRecords(new PostgresExpiredRecordsStore(database.db), clock);
      const families = await deleteEndedRefreshFamilies(
        new PostgresRefreshFamilyStore(database.db),
        clock,
        (30 * dayMilliseconds) / 1000,
      );

      // Each deleted account leaves its own audit event; the old ones are gone.
      assert.deepEqual(counts, {
        tokens: expiredRows,
        sessions: expiredRows,
        emails: expiredRows,
        accounts: expiredRows,
        auditEvents: expiredRows,
        webhookDeliveries: expiredRows,
      });
      assert.equal(families, expiredRows);
      assert.deepEqual(await listLabels(), {
        tokens: ['token-live'],
        sessions: ['session-live'],
        emails: ['email-sent-yesterday'],
      });
      const remaining = await database.pool.query<{
        users: number;
        families: number;
        audit: number;
        deliveries: string[];
      }>(
        `select (select count(*)::int from users) as users,
                (select count(*)::int from refresh_families) as families,
                (select count(*)::int from audit_events where event = 'account_deleted') as audit,
                (select array_agg(webhook_id) from webhook_deliveries) as deliveries`,
      );
      assert.deepEqual(remaining.rows[0], {
        users: 1,
        families: 1,
        audit: expiredRows,
        deliveries: ['msg_waiting'],
      });
    });

    test('outbox stats count queued and leased mail and age the oldest of it', async () => {
      assert.deepEqual(await readOutboxStats(database.db), { depth: 0, oldestAgeSeconds: 0 });
      await insertEmail('email-queued-an-hour-ago', {
        status: 'queued',
        createdAt: new Date(Date.now() - hourMilliseconds),
      });
      await insertEmail('email-processing', { status: 'processing', createdAt: new Date() });
      await insertEmail('email-sent-long-ago', {
        status: 'sent',
        createdAt: new Date(Date.now() - dayMilliseconds),
      });

      const stats = await readOutboxStats(database.db);
      assert.equal(stats.depth, 2);
      assert.ok(Math.abs(stats.oldestAgeSeconds - 3600) < 60, `oldest age ${stats.oldestAgeSeconds}`);
    });
  });
}

describe('clean-up schedule', () => {
  function recordingStore(run: () => Promise<DeletedRecordCounts>): ExpiredRecordsStore & {
    cutoffs: { tokensBefore: Date; sessionsBefore: Date; finishedEmailsBefore: Date }[];
  } {
    const cutoffs: { tokensBefore: Date; sessionsBefore: Date; finishedEmailsBefore: Date }[] = [];
    return {
      cutoffs,
      async deleteExpiredRecords(given) {
        cutoffs.push(given);
        return run();
      },
    };
  }

  test('passes the retention cutoffs: a day for tokens, now for sessions, a week for finished mail, webhook deliveries and deleted accounts, 90 days for audit events', async () => {
    const store = recordingStore(async () => ({
      tokens: 0,
      sessions: 0,
      emails: 0,
      accounts: 0,
      auditEvents: 0,
      webhookDeliveries: 0,
    }));
    const now = new Date('2026-06-01T12:00:00Z');
    await deleteExpiredRecords(store, { now: () => now });
    assert.deepEqual(store.cutoffs, [
      {
        tokensBefore: new Date(now.getTime() - expiredTokenRetentionSeconds * 1000),
        sessionsBefore: now,
        finishedEmailsBefore: new Date(now.getTime() - finishedEmailRetentionSeconds * 1000),
        accountsDeletedBefore: new Date(now.getTime() - 7 * 24 * 60 * 60 * 1000),
        auditEventsBefore: new Date(now.getTime() - 90 * 24 * 60 * 60 * 1000),
        finishedWebhookDeliveriesBefore: new Date(now.getTime() - finishedWebhookRetentionSeconds * 1000),
        passAt: now,
      },
    ]);
    assert.equal(expiredTokenRetentionSeconds, 24 * 60 * 60);
    assert.equal(finishedEmailRetentionSeconds, 7 * 24 * 60 * 60);
    assert.equal(finishedWebhookRetentionSeconds, 7 * 24 * 60 * 60);
  });

  test('runs every interval, reports failures without stopping, and stop() waits for the pass in flight', async () => {
    let calls = 0;
    let finishSlowPass: () => void = () => {};
    const store = recordingStore(async () => {
      calls += 1;
      if (calls === 2) throw new Error('database unavailable');
      if (calls === 4) await new Promise<void>((resolve) => (finishSlowPass = resolve));
      return { tokens: calls, sessions: 0, emails: 0, accounts: 0, auditEvents: 0, webhookDeliveries: 0 };
    });
    const finished: DeletedRecordCounts[] = [];
    const failures: unknown[] = [];
    const housekeeping = startHousekeeping({
      store,
      clock: { now: () => new Date() },
      intervalMilliseconds: 20,
      firstRunAfterMilliseconds: 0,
      onPassFinished: (deleted) => finished.push(deleted),
      onPassFailed: (error) => failures.push(error),
    });
    const deadline = Date.now() + 5_000;
    while (calls < 4 && Date.now() < deadline) await delay(5);
    assert.equal(calls, 4);

    let stopped = false;
    const stopping = housekeeping.stop().then(() => (stopped = true));
    await delay(50);
    assert.equal(stopped, false, 'stop() returned while a pass was running');
    finishSlowPass();
    await stopping;
    await delay(60);
    assert.equal(calls, 4, 'no pass after stop()');
    assert.deepEqual(
      finished.map((deleted) => deleted.tokens),
      [1, 3, 4],
    );
    assert.equal(failures.length, 1);
  });
});
