import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Session } from '../../src/flows/model.ts';
import type { SessionStore } from '../../src/flows/ports.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { describeContract } from './describe-contract.ts';

export interface SessionStoreUnderTest {
  readonly store: SessionStore;
  /**
   * Gives a user id the store accepts for a session. PostgreSQL needs a real users row (sessions.user_id is a
   * foreign key); stores without one may leave this out and get random UUIDs.
   */
  readonly createUserId?: () => Promise<string>;
  /**
   * Stores `session` as a version that kept no activity fields (last seen, IP, user agent) did, for stores
   * that outlive an upgrade (PostgreSQL, Redis).
   */
  readonly storeAsEarlierVersion?: (session: Session) => Promise<void>;
  close(): Promise<void>;
}

const hourMs = 60 * 60 * 1000;

/** The SessionStore port's rules; every adapter runs them. Each test gets a fresh store. */
export function describeSessionStoreContract(
  adapterName: string,
  createStore: () => Promise<SessionStoreUnderTest>,
): void {
  describeContract(`SessionStore contract: ${adapterName}`, createStore, 'test', (underTest) => {
    const store = (): SessionStore => underTest().store;

    async function createUserId(): Promise<string> {
      const fixture = underTest();
      return fixture.createUserId === undefined ? randomUUID() : fixture.createUserId();
    }

    /** A live session for `userId`; times have millisecond precision, as a Date does. */
    function buildSession(userId: string, overrides: Partial<Session> = {}): Session {
      const now = Date.now();
      return {
        tokenHash: hashToken(generateToken()),
        userId,
        email: `user-${userId.slice(0, 8)}@example.test`,
        isActive: true,
        isVerified: false,
        createdAt: new Date(now - 1234),
        expiresAt: new Date(now + hourMs + 567),
        lastSeenAt: new Date(now - 1234),
        ip: '2001:db8::1',
        userAgent: 'Mozilla/5.0 (contract test)',
        ...overrides,
      };
    }

    test('a created session is found by its token hash with every field intact, dates as Dates', async () => {
      const session = buildSession(await createUserId(), { isVerified: true });
      await store().createSession(session);

      const found = await store().findSession(session.tokenHash, new Date());

      assert.ok(found);
      assert.ok(found.createdAt instanceof Date);
      assert.ok(found.expiresAt instanceof Date);
      assert.deepEqual(found, session);
    });

    test('storing one session twice (racing refreshes derive the same token) keeps one live session', async () => {
      const userId = await createUserId();
      const session = buildSession(userId);
      await Promise.all([store().createSession(session), store().createSession({ ...session })]);
      await store().createSession(session);

      assert.deepEqual(await store().findSession(session.tokenHash, new Date()), session);
      assert.equal((await store().listUserSessions(userId, new Date())).length, 1);
    });

    test('an unknown token hash finds no session', async () => {
      assert.equal(await store().findSession(hashToken(generateToken()), new Date()), null);
    });

    test('a deleted session is gone, and only that one', async () => {
      const userId = await createUserId();
      const deleted = buildSession(userId);
      const kept = buildSession(userId);
      await store().createSession(deleted);
      await store().createSession(kept);

      await store().deleteSession(deleted.tokenHash);

      assert.equal(await store().findSession(deleted.tokenHash, new Date()), null);
      assert.deepEqual(await store().findSession(kept.tokenHash, new Date()), kept);
    });

    test('deleting an unknown session or the sessions of a user without any is not an error', async () => {
      await store().deleteSession(hashToken(generateToken()));
      await store().deleteUserSessions(await createUserId());
    });

    test("deleteUserSessions removes every session of that user and no other user's session", async () => {
      const userId = await createUserId();
      const otherUserId = await createUserId();
      const revoked = [buildSession(userId), buildSession(userId), buildSession(userId)];
      const otherUsersSession = buildSession(otherUserId);
      for (const session of [...revoked, otherUsersSession]) await store().createSession(session);

      await store().deleteUserSessions(userId);

      for (const session of revoked)
        assert.equal(await store().findSession(session.tokenHash, new Date()), null);
      assert.deepEqual(await store().findSession(otherUsersSession.tokenHash, new Date()), otherUsersSession);
    });

    test("deleteOtherUserSessions keeps the named session and removes the user's others, no one else's", async () => {
      const userId = await createUserId();
      const otherUserId = await createUserId();
      const kept = buildSession(userId);
      const revoked = [buildSession(userId), buildSession(userId)];
      const otherUsersSession = buildSession(otherUserId);
      for (const session of [kept, ...revoked, otherUsersSession]) await store().createSession(session);

      await store().deleteOtherUserSessions(userId, kept.tokenHash);

      for (const session of revoked)
        assert.equal(await store().findSession(session.tokenHash, new Date()), null);
      assert.deepEqual(await store().findSession(kept.tokenHash, new Date()), kept);
      assert.deepEqual(await store().findSession(otherUsersSession.tokenHash, new Date()), otherUsersSession);

      // The kept session is still revocable with the rest, and new sessions are ended by the next call.
      const later = buildSession(userId);
      await store().createSession(later);
      await store().deleteOtherUserSessions(userId, kept.tokenHash);
      assert.equal(await store().findSession(later.tokenHash, new Date()), null);
      await store().deleteUserSessions(userId);
      assert.equal(await store().findSession(kept.tokenHash, new Date()), null);
    });

    test("listUserSessions gives the user's live sessions with every field, and no one else's", async () => {
      const userId = await createUserId();
      const now = Date.now();
      const live = [buildSession(userId), buildSession(userId, { ip: null, userAgent: null })];
      const expired = buildSession(userId, { expiresAt: new Date(now + 60_000) });
      for (const session of [...live, expired, buildSession(await createUserId())]) {
        await store().createSession(session);
      }
      const byToken = (a: Session, b: Session): number => a.tokenHash.localeCompare(b.tokenHash);

      const listed = await store().listUserSessions(userId, new Date(now + 120_000));

      assert.deepEqual(listed.sort(byToken), live.sort(byToken));
      assert.deepEqual(await store().listUserSessions(await createUserId(), new Date()), []);
      await store().deleteSession(live[0]?.tokenHash ?? '');
      assert.deepEqual(await store().listUserSessions(userId, new Date(now + 120_000)), [live[1]]);
    });

    test('touchSession records the last use and nothing else; an ended session stays ended', async () => {
      const session = buildSession(await createUserId());
      await store().createSession(session);
      const seen = new Date(session.createdAt.getTime() + 10 * 60_000);

      await store().touchSession(session, seen);

      assert.deepEqual(await store().findSession(session.tokenHash, new Date()), {
        ...session,
        lastSeenAt: seen,
      });
      await store().deleteSession(session.tokenHash);
      await store().touchSession(session, new Date());
      assert.equal(await store().findSession(session.tokenHash, new Date()), null);
    });

    test('a session records the refresh family that minted it; a session without one never reads as having one', async () => {
      const userId = await createUserId();
      const familyId = randomUUID();
      const minted = buildSession(userId, { refreshFamilyId: familyId });
      const plain = buildSession(userId, { refreshFamilyId: null });
      await store().createSession(minted);
      await store().createSession(plain);

      assert.equal((await store().findSession(minted.tokenHash, new Date()))?.refreshFamilyId, familyId);
      const listed = await store().listUserSessions(userId, new Date());
      assert.equal(
        listed.find((session) => session.tokenHash === minted.tokenHash)?.refreshFamilyId,
        familyId,
      );
      // None, or (where the family store answers it anyway) unknown; never someone's family.
      const found = await store().findSession(plain.tokenHash, new Date());
      assert.ok(found);
      assert.equal(found.refreshFamilyId ?? null, null);
      await store().touchSession(minted, new Date(minted.createdAt.getTime() + 60_000));
      assert.equal((await store().findSession(minted.tokenHash, new Date()))?.refreshFamilyId, familyId);
    });

    test('a session stored by an earlier version works, lists as last seen at its creation, and ends', async () => {
      const fixture = underTest();
      if (fixture.storeAsEarlierVersion === undefined) return;
      const userId = await createUserId();
      const earlier = buildSession(userId);
      await fixture.storeAsEarlierVersion(earlier);
      // No refreshFamilyId: unknown, so ending it asks the family store.
      const expected = { ...earlier, lastSeenAt: earlier.createdAt, ip: null, userAgent: null };

      assert.deepEqual(await store().findSession(earlier.tokenHash, new Date()), expected);
      assert.deepEqual(await store().listUserSessions(userId, new Date()), [expected]);
      await store().touchSession(expected, new Date(earlier.createdAt.getTime() + 60_000));
      assert.equal(
        (await store().findSession(earlier.tokenHash, new Date()))?.lastSeenAt.getTime(),
        earlier.createdAt.getTime() + 60_000,
      );
      await store().deleteOtherUserSessions(userId, 'none');
      assert.equal(await store().findSession(earlier.tokenHash, new Date()), null);
    });

    test('a user can log in again after all their sessions were revoked', async () => {
      const userId = await createUserId();
      await store().createSession(buildSession(userId));
      await store().deleteUserSessions(userId);

      const fresh = buildSession(userId);
      await store().createSession(fresh);

      assert.deepEqual(await store().findSession(fresh.tokenHash, new Date()), fresh);
    });

    test('a session is not returned once `now` has reached its expiresAt', async () => {
      const session = buildSession(await createUserId());
      await store().createSession(session);
      const expiresAtMs = session.expiresAt.getTime();

      assert.deepEqual(await store().findSession(session.tokenHash, new Date(expiresAtMs - 1000)), session);
      assert.equal(await store().findSession(session.tokenHash, new Date(expiresAtMs)), null);
      assert.equal(await store().findSession(session.tokenHash, new Date(expiresAtMs + 1000)), null);
    });

    test('a session created already expired is never returned', async () => {
      const now = Date.now();
      const session = buildSession(await createUserId(), {
        createdAt: new Date(now - 2 * hourMs),
        expiresAt: new Date(now - 60_000),
      });
      await store().createSession(session);

      assert.equal(await store().findSession(session.tokenHash, new Date()), null);
    });

    test('after 20 concurrent logins of one user, deleteUserSessions leaves none of them', async () => {
      const userId = await createUserId();
      const sessions = Array.from({ length: 20 }, () => buildSession(userId));
      await Promise.all(sessions.map((session) => store().createSession(session)));
      for (const session of sessions) {
        assert.deepEqual(await store().findSession(session.tokenHash, new Date()), session);
      }

      await store().deleteUserSessions(userId);

      const remaining = await Promise.all(
        sessions.map((session) => store().findSession(session.tokenHash, new Date())),
      );
      assert.deepEqual(
        remaining,
        Array.from({ length: 20 }, () => null),
      );
    });
  });
}
