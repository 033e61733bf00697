import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { completeAuditEvent } from '../../src/flows/audit.ts';
import { deleteExpiredRecords } from '../../src/flows/housekeeping.ts';
import type { TokenPurpose } from '../../src/flows/model.ts';
import type {
  ExpiredRecordsStore,
  OutboxQueue,
  SessionStore,
  TokenStore,
  Transactor,
} from '../../src/flows/ports.ts';
import type { WebhookDeliveryBrowser, WebhookQueue } from '../../src/flows/webhooks.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { describeContract } from './describe-contract.ts';

/** The one webhook endpoint of the fixture: its transactor's trail and its store queue deliveries to it. */
export const expiredRecordsWebhookUrl = 'https://hooks.example.com/latchkey';

export interface ExpiredRecordsUnderTest {
  /** With expiredRecordsWebhookUrl as its webhook target. */
  readonly store: ExpiredRecordsStore;
  /** Writes the rows a clean-up looks at: users, tokens, mail, webhook deliveries (of audit events). */
  readonly transactor: Transactor;
  readonly webhooks: WebhookQueue & WebhookDeliveryBrowser;
  /** How many times the store said it queued deliveries (to wake a dispatcher). */
  readonly announcements: () => number;
  /** The sessions the clean-up deletes (those kept beside the users). */
  readonly sessions: SessionStore;
  readonly queue: OutboxQueue;
  close(): Promise<void>;
}

const hourMs = 60 * 60 * 1000;
const dayMs = 24 * hourMs;
const leaseSeconds = 60;

/**
 * The clean-up's rules (ExpiredRecordsStore), written through the other ports only, so every adapter runs
 * them. The clean-up runs as if eight days had passed: rows written now are then as old as the rules need.
 */
export function describeExpiredRecordsContract(
  adapterName: string,
  createStore: () => Promise<ExpiredRecordsUnderTest>,
): void {
  describeContract(`ExpiredRecordsStore contract: ${adapterName}`, createStore, 'suite', (underTest) => {
    test('a pass deletes tokens a day past expiry or use, expired sessions and week-old finished mail, and nothing else', async () => {
      const now = Date.now();
      const later = now + 8 * dayMs;
      const { transactor, sessions, queue } = underTest();
      const emailKey = `user-${randomUUID()}@example.test`;
      const user = await transactor.runInTransaction((stores) =>
        stores.users.insertUser({ email: emailKey, emailKey, passwordHash: 'hash' }),
      );
      assert.ok(user);
      const userId = user.id;

      async function createToken(
        expiresAtMs: number,
        purpose: TokenPurpose = 'password_reset',
      ): Promise<string> {
        const tokenHash = hashToken(generateToken());
        await transactor.runInTransaction((stores) =>
          stores.tokens.createToken({ tokenHash, purpose, userId, expiresAt: new Date(expiresAtMs) }),
        );
        return tokenHash;
      }
      const useToken = (tokenHash: string, atMs: number): ReturnType<TokenStore['consumeToken']> =>
        transactor.runInTransaction((stores) =>
          stores.tokens.consumeToken(tokenHash, 'password_reset', new Date(atMs)),
        );
      const liveToken = await createToken(later + hourMs);
      await createToken(later - hourMs);
      await createToken(later - 2 * dayMs);
      assert.ok(await useToken(await createToken(later + hourMs), later - hourMs));
      assert.ok(await useToken(await createToken(later + hourMs), later - 2 * dayMs));

      const session = (expiresAtMs: number) => ({
        tokenHash: hashToken(generateToken()),
        userId,
        email: emailKey,
        isActive: true,
        isVerified: true,
        createdAt: new Date(now),
        expiresAt: new Date(expiresAtMs),
        lastSeenAt: new Date(now),
        ip: null,
        userAgent: null,
      });
      const liveSession = session(later + hourMs);
      await sessions.createSession(liveSession);
      await sessions.createSession(session(later - 1000));

      // Five emails, queued now: eight days before the clean-up.
      await transactor.runInTransaction(async (stores) => {
        for (let i = 0; i < 5; i++) {
          await stores.outbox.enqueueEmail({
            template: 'password_changed',
            to: `mail-${i}@example.test`,
            params: { resetUrl: 'https://auth.example.test/reset-password' },
          });
        }
      });
      const claimedAt = new Date(now + 1000);
      const [sentYesterday, sentLongAgo, abandoned, processing, requeued] = await queue.claimDueEmails(
        5,
        claimedAt,
        leaseSeconds,
      );
      assert.ok(sentYesterday && sentLongAgo && abandoned && processing && requeued);
      await queue.markEmailSent(sentYesterday.id, new Date(later - dayMs));
      await queue.markEmailSent(sentLongAgo.id, new Date(later - 8 * dayMs));
      await queue.markEmailAbandoned(abandoned.id, '550 no such user');
      await queue.scheduleEmailRetry(requeued.id, new Date(later + hourMs), '421 try again later');

      const clock = { now: () => new Date(later) };
      assert.deepEqual(await deleteExpiredRecords(underTest().store, clock), {
        tokens: 2,
        sessions: 1,
        emails: 2,
        accounts: 0,
        auditEvents: 0,
        webhookDeliveries: 0,
      });
      assert.deepEqual(await deleteExpiredRecords(underTest().store, clock), {
        tokens: 0,
        sessions: 0,
        emails: 0,
        accounts: 0,
        auditEvents: 0,
        webhookDeliveries: 0,
      });

      const kept = await transactor.runInTransaction((stores) =>
        stores.tokens.findValidToken(liveToken, 'password_reset', new Date(now)),
      );
      assert.deepEqual(kept, { userId, email: null });
      assert.deepEqual(await sessions.findSession(liveSession.tokenHash, new Date(now)), liveSession);
      // Mail not yet sent is a promise: it stays, however old.
      const stillDue = await queue.claimDueEmails(10, new Date(later + hourMs), leaseSeconds);
      assert.deepEqual(new Set(stillDue.map((entry) => entry.id)), new Set([processing.id, requeued.id]));
    });

    test('a pass removes accounts deleted longer than the grace ago, with their tokens, sessions and queued mail', async () => {
      const now = Date.now();
      const { transactor, sessions, queue, store } = underTest();
      async function account(label: string, deleted: boolean) {
        const email = `${label}-${randomUUID()}@example.test`;
        const tokenHash = hashToken(generateToken());
        const sessionHash = hashToken(generateToken());
        const user = await transactor.runInTransaction(async (stores) => {
          const created = await stores.users.insertUser({ email, emailKey: email, passwordHash: 'hash' });
          assert.ok(created);
          await stores.tokens.createToken({
            tokenHash,
            purpose: 'account_restore',
            userId: created.id,
            expiresAt: new Date(now + 30 * dayMs),
          });
          await stores.outbox.enqueueEmail({ template: 'account_deleted', to: email, params: { url: null } });
          if (deleted) await stores.users.markUserDeleted(created.id, new Date(now));
          return created;
        });
        await sessions.createSession({
          tokenHash: sessionHash,
          userId: user.id,
          email,
          isActive: true,
          isVerified: true,
          createdAt: new Date(now),
          expiresAt: new Date(now + 30 * dayMs),
          lastSeenAt: new Date(now),
          ip: null,
          userAgent: null,
        });
        return { user, email, tokenHash, sessionHash };
      }
      const gone = await account('gone', true);
      const kept = await account('kept', false);
      const tooRecent = await account('recent', true);
      await transactor.runInTransaction((stores) =>
        stores.users.markUserDeleted(tooRecent.user.id, new Date(now + 2 * dayMs)),
      );

      const counts = await deleteExpiredRecords(store, { now: () => new Date(now + 8 * dayMs) }, 7);

      assert.ok(counts.accounts >= 1);
      const check = (hash: string) =>
        transactor.runInTransaction((stores) =>
          stores.tokens.findValidToken(hash, 'account_restore', new Date(now)),
        );
      const findUser = (userId: string) =>
        transactor.runInTransaction((stores) => stores.users.findUserById(userId));
      assert.equal(await findUser(gone.user.id), null);
      assert.equal(await check(gone.tokenHash), null);
      assert.equal(await sessions.findSession(gone.sessionHash, new Date(now)), null);
      for (const survivor of [kept, tooRecent]) {
        assert.ok(await findUser(survivor.user.id));
        assert.ok(await check(survivor.tokenHash));
        assert.ok(await sessions.findSession(survivor.sessionHash, new Date(now)));
      }
      const queued = (await queue.claimDueEmails(1000, new Date(now + dayMs), leaseSeconds)).map(
        (entry) => entry.message.to,
      );
      assert.ok(!queued.includes(gone.email), 'the removed account’s queued mail is gone');
      assert.ok(queued.includes(kept.email));
    });

    /** A new account and a login of it (which receivers hear of): one webhook delivery. Returns the account id. */
    async function createAccountWithDelivery(): Promise<string> {
      return underTest().transactor.runInTransaction(async (stores) => {
        const email = `hooked-${randomUUID()}@example.test`;
        const user = await stores.users.insertUser({ email, emailKey: email, passwordHash: 'hash' });
        assert.ok(user);
        await stores.audit.appendAuditEvent(
          completeAuditEvent({ event: 'login', outcome: 'success', userId: user.id }, new Date()),
        );
        return user.id;
      });
    }

    async function claimDeliveriesOf(userIds: string[], at: Date): Promise<Map<string, string>> {
      const claimed = await underTest().webhooks.claimDueWebhookDeliveries(1000, at, leaseSeconds);
      const ids = new Map<string, string>();
      for (const delivery of claimed) {
        const owner = (JSON.parse(delivery.payload) as { data: { user_id: string } }).data.user_id;
        if (userIds.includes(owner)) ids.set(owner, delivery.id);
      }
      return ids;
    }

    test('a pass deletes webhook deliveries delivered or abandoned over a week ago, and never one still waiting', async () => {
      const now = Date.now();
      const { webhooks, store } = underTest();
      const [delivered, abandoned, retrying, leased] = [
        await createAccountWithDelivery(),
        await createAccountWithDelivery(),
        await createAccountWithDelivery(),
        await createAccountWithDelivery(),
      ];
      const ids = await claimDeliveriesOf([delivered, abandoned, retrying, leased], new Date(now + 1000));
      assert.equal(ids.size, 4);
      await webhooks.markWebhookDelivered(ids.get(delivered) ?? '', new Date(now + 2000));
      await webhooks.markWebhookAbandoned(ids.get(abandoned) ?? '', 'answered 500');
      await webhooks.scheduleWebhookRetry(
        ids.get(retrying) ?? '',
        new Date(now + 30 * dayMs),
        'answered 503',
      );

      const sixDaysLater = await deleteExpiredRecords(store, { now: () => new Date(now + 6 * dayMs) });
      assert.equal(sixDaysLater.webhookDeliveries, 0, 'a finished delivery is kept a week');
      const eightDaysLater = await deleteExpiredRecords(store, { now: () => new Date(now + 8 * dayMs) });
      assert.equal(eightDaysLater.webhookDeliveries, 2);

      const left = await webhooks.listWebhookDeliveries({ status: null, after: null, limit: 1000 });
      const leftIds = new Set(left.rows.map((row) => row.id));
      assert.ok(!leftIds.has(ids.get(delivered) ?? ''));
      assert.ok(!leftIds.has(ids.get(abandoned) ?? ''));
      assert.ok(leftIds.has(ids.get(retrying) ?? ''), 'a delivery waiting for its retry stays');
      assert.ok(leftIds.has(ids.get(leased) ?? ''), 'a leased delivery stays');
    });

    test('removing an account queues its user.deleted, from the system, at the time of the pass; a live account gets none', async () => {
      const now = Date.now();
      const { transactor, store } = underTest();
      const create = (label: string) =>
        transactor.runInTransaction(async (stores) => {
          const email = `${label}-${randomUUID()}@example.test`;
          const user = await stores.users.insertUser({ email, emailKey: email, passwordHash: 'hash' });
          assert.ok(user);
          return user.id;
        });
      const gone = await create('removed');
      const kept = await create('kept');
      await transactor.runInTransaction((stores) => stores.users.markUserDeleted(gone, new Date(now)));
      const announcedBefore = underTest().announcements();

      const passAt = new Date(now + 8 * dayMs);
      const counts = await deleteExpiredRecords(store, { now: () => passAt }, 7);
      assert.ok(counts.accounts >= 1);
      assert.ok(underTest().announcements() > announcedBefore, 'the dispatchers are woken');

      const claimed = await underTest().webhooks.claimDueWebhookDeliveries(1000, passAt, leaseSeconds);
      const bodies = claimed
        .map((delivery) => ({
          delivery,
          body: JSON.parse(delivery.payload) as {
            type: string;
            timestamp: string;
            data: { user_id: string; actor: string };
          },
        }))
        .filter(({ body }) => body.data.user_id === gone || body.data.user_id === kept);
      assert.equal(bodies.length, 1);
      const [only] = bodies;
      assert.equal(only?.delivery.eventType, 'user.deleted');
      assert.equal(only?.delivery.endpointUrl, expiredRecordsWebhookUrl);
      assert.deepEqual(only?.body, {
        type: 'user.deleted',
        timestamp: passAt.toISOString(),
        data: { user_id: gone, actor: 'system', reason: 'success' },
      });
      const trail = await transactor.runInTransaction((stores) =>
        stores.audit.listAuditEvents({
          userId: gone,
          event: 'account_deleted',
          since: null,
          after: null,
          limit: 10,
        }),
      );
      assert.deepEqual(
        trail.rows.map((row) => [row.actor, row.occurredAt.toISOString()]),
        [['system', passAt.toISOString()]],
      );
    });
  });
}
