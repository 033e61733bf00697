import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { deleteExpiredRecords } from '../../src/flows/housekeeping.ts';
import type { TokenPurpose } from '../../src/flows/model.ts';
import type {
  ExpiredRecordsStore,
  OutboxQueue,
  SessionStore,
  TokenStore,
  Transactor,
} from '../../src/flows/ports.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { describeContract } from './describe-contract.ts';

export interface ExpiredRecordsUnderTest {
  readonly store: ExpiredRecordsStore;
  /** Writes the rows a clean-up looks at: users, tokens, mail. */
  readonly transactor: Transactor;
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
      });
      assert.deepEqual(await deleteExpiredRecords(underTest().store, clock), {
        tokens: 0,
        sessions: 0,
        emails: 0,
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
  });
}
