import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { RefreshFamily } from '../../src/flows/model.ts';
import type { RefreshFamilyStore } from '../../src/flows/ports.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { describeContract } from './describe-contract.ts';

export interface RefreshFamilyStoreUnderTest {
  readonly store: RefreshFamilyStore;
  /** A user id the store accepts (PostgreSQL: a real users row, refresh_families.user_id is a foreign key). */
  createUserId(): Promise<string>;
  close(): Promise<void>;
}

const dayMs = 24 * 60 * 60 * 1000;

/** The RefreshFamilyStore port's rules; every adapter runs them, on one store per suite. */
export function describeRefreshFamilyStoreContract(
  adapterName: string,
  createStore: () => Promise<RefreshFamilyStoreUnderTest>,
): void {
  describeContract(`RefreshFamilyStore contract: ${adapterName}`, createStore, 'suite', (underTest) => {
    const store = (): RefreshFamilyStore => underTest().store;

    /** A new family of a new user at generation 0, created `ageMs` ago; times at millisecond precision. */
    async function startFamily(
      overrides: Partial<RefreshFamily> = {},
    ): Promise<{ family: RefreshFamily; tokenHash: string; sessionTokenHash: string }> {
      const now = new Date(Math.floor(Date.now()));
      const family: RefreshFamily = {
        id: randomUUID(),
        userId: await underTest().createUserId(),
        createdAt: now,
        expiresAt: new Date(now.getTime() + 30 * dayMs),
        lastUsedAt: now,
        generation: 0,
        rotatedAt: now,
        revokedAt: null,
        ...overrides,
      };
      const tokenHash = hashToken(generateToken());
      const sessionTokenHash = hashToken(generateToken());
      await store().createFamily({ family, tokenHash, sessionTokenHash });
      return { family, tokenHash, sessionTokenHash };
    }

    async function rotate(familyId: string, fromGeneration: number, now = new Date()) {
      const tokenHash = hashToken(generateToken());
      const sessionTokenHash = hashToken(generateToken());
      const rotated = await store().rotateFamily({
        familyId,
        fromGeneration,
        tokenHash,
        sessionTokenHash,
        now,
      });
      return { rotated, tokenHash, sessionTokenHash };
    }

    test('a created family is found by its first token, with every field intact', async () => {
      const { family, tokenHash } = await startFamily();
      assert.deepEqual(await store().findTokenOwner(tokenHash), {
        family,
        generation: 0,
        currentTokenHash: tokenHash,
      });
      assert.deepEqual(await store().findFamily(family.id), family);
      assert.equal(await store().findTokenOwner(hashToken(generateToken())), null);
      assert.equal(await store().findFamily(randomUUID()), null);
    });

    test('a rotation moves the family on: the old token is the predecessor, the new one current', async () => {
      const { family, tokenHash } = await startFamily();
      const at = new Date(family.createdAt.getTime() + 5000);
      const next = await rotate(family.id, 0, at);
      assert.equal(next.rotated, true);

      const old = await store().findTokenOwner(tokenHash);
      assert.equal(old?.generation, 0);
      assert.equal(old?.family.generation, 1);
      assert.equal(old?.currentTokenHash, next.tokenHash);
      assert.deepEqual(old?.family.rotatedAt, at);
      assert.deepEqual(old?.family.lastUsedAt, at);
      assert.deepEqual(old?.family.createdAt, family.createdAt);
      assert.equal((await store().findTokenOwner(next.tokenHash))?.generation, 1);
    });

    test('of twenty concurrent rotations from one generation exactly one succeeds', async () => {
      const { family } = await startFamily();
      const results = await Promise.all(Array.from({ length: 20 }, () => rotate(family.id, 0)));
      assert.equal(results.filter((result) => result.rotated).length, 1);
      const winner = results.find((result) => result.rotated);
      assert.ok(winner);
      assert.equal((await store().findFamily(family.id))?.generation, 1);
      for (const loser of results.filter((result) => !result.rotated)) {
        assert.equal(await store().findTokenOwner(loser.tokenHash), null);
      }
    });

    test('a revoked family never rotates; revoking returns every session it minted, again and again', async () => {
      const { family, sessionTokenHash } = await startFamily();
      const next = await rotate(family.id, 0);
      const revokedAt = new Date(Math.floor(Date.now()));
      const sessions = await store().revokeFamily(family.id, revokedAt);
      assert.deepEqual(sessions.sort(), [sessionTokenHash, next.sessionTokenHash].sort());
      assert.deepEqual((await store().findFamily(family.id))?.revokedAt, revokedAt);

      assert.equal((await rotate(family.id, 1)).rotated, false);
      // A second revocation keeps the first moment.
      const again = await store().revokeFamily(family.id, new Date(revokedAt.getTime() + 1000));
      assert.equal(again.length, 2);
      assert.deepEqual((await store().findFamily(family.id))?.revokedAt, revokedAt);
      assert.deepEqual(await store().revokeFamily(randomUUID(), revokedAt), []);
    });

    test('the family of a session of any generation is found; a session without one has none', async () => {
      const { family, sessionTokenHash } = await startFamily();
      const next = await rotate(family.id, 0);
      assert.equal(await store().findFamilyIdOfSession(sessionTokenHash), family.id);
      assert.equal(await store().findFamilyIdOfSession(next.sessionTokenHash), family.id);
      assert.equal(await store().findFamilyIdOfSession(hashToken(generateToken())), null);
    });

    test("revoking a user's families spares another user's, and the family of the kept session", async () => {
      const kept = await startFamily();
      const userId = kept.family.userId;
      const other = await startFamily({ userId });
      const stranger = await startFamily();
      const next = await rotate(kept.family.id, 0);
      const now = new Date();

      await store().revokeUserFamilies(userId, now, { keptSessionTokenHash: next.sessionTokenHash });
      assert.equal((await store().findFamily(kept.family.id))?.revokedAt, null);
      assert.notEqual((await store().findFamily(other.family.id))?.revokedAt, null);
      assert.equal((await store().findFamily(stranger.family.id))?.revokedAt, null);

      await store().revokeUserFamilies(userId, now);
      assert.notEqual((await store().findFamily(kept.family.id))?.revokedAt, null);
      assert.equal((await store().findFamily(stranger.family.id))?.revokedAt, null);
    });

    test('the clean-up deletes expired, idle and long-revoked families with their tokens, and no other', async () => {
      const now = Date.now();
      const expired = await startFamily({ expiresAt: new Date(now - dayMs) });
      const idle = await startFamily({ lastUsedAt: new Date(now - 20 * dayMs) });
      const revoked = await startFamily();
      await store().revokeFamily(revoked.family.id, new Date(now - 2 * dayMs));
      const recentlyRevoked = await startFamily();
      await store().revokeFamily(recentlyRevoked.family.id, new Date(now));
      const live = await startFamily();

      const deleted = await store().deleteEndedFamilies({
        expiredBefore: new Date(now),
        idleBefore: new Date(now - 14 * dayMs),
        revokedBefore: new Date(now - dayMs),
      });
      assert.ok(deleted >= 3, `deleted ${deleted}`);
      for (const gone of [expired, idle, revoked]) {
        assert.equal(await store().findFamily(gone.family.id), null);
        assert.equal(await store().findTokenOwner(gone.tokenHash), null);
      }
      for (const kept of [recentlyRevoked, live]) {
        assert.ok(await store().findTokenOwner(kept.tokenHash));
      }
    });
  });
}
