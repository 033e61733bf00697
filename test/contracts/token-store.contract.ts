import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TokenPurpose } from '../../src/flows/model.ts';
import type { TokenStore } from '../../src/flows/ports.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { describeContract } from './describe-contract.ts';

export interface TokenStoreUnderTest {
  readonly store: TokenStore;
  /** A user id the store accepts for a token (PostgreSQL needs a real users row: user_tokens.user_id is a foreign key). */
  createUserId(): Promise<string>;
  close(): Promise<void>;
}

const hourMs = 60 * 60 * 1000;

/**
 * The TokenStore port's rules; every adapter runs them. One store serves the whole suite (a database takes
 * seconds to create), so each test works on users and tokens of its own.
 */
export function describeTokenStoreContract(
  adapterName: string,
  createStore: () => Promise<TokenStoreUnderTest>,
): void {
  describeContract(`TokenStore contract: ${adapterName}`, createStore, 'suite', (underTest) => {
    const store = (): TokenStore => underTest().store;

    /** Creates a token for `userId` that expires an hour from now; returns its hash, as flows store it. */
    async function createTokenFor(
      userId: string,
      purpose: TokenPurpose = 'password_reset',
      expiresAt = new Date(Date.now() + hourMs),
    ): Promise<string> {
      const tokenHash = hashToken(generateToken());
      await store().createToken({ tokenHash, purpose, userId, expiresAt });
      return tokenHash;
    }

    test('a token is found with its user while it is unused and unexpired, and finding it does not use it', async () => {
      const userId = await underTest().createUserId();
      const tokenHash = await createTokenFor(userId);

      assert.deepEqual(await store().findValidToken(tokenHash, 'password_reset', new Date()), {
        userId,
        email: null,
      });
      assert.deepEqual(await store().findValidToken(tokenHash, 'password_reset', new Date()), {
        userId,
        email: null,
      });
      assert.deepEqual(await store().consumeToken(tokenHash, 'password_reset', new Date()), {
        userId,
        email: null,
      });
    });

    test('an unknown token is neither found nor consumed', async () => {
      const unknownHash = hashToken(generateToken());

      assert.equal(await store().findValidToken(unknownHash, 'password_reset', new Date()), null);
      assert.equal(await store().consumeToken(unknownHash, 'password_reset', new Date()), null);
    });

    test('a token stops working once `now` reaches its expiresAt', async () => {
      const userId = await underTest().createUserId();
      const expiresAt = new Date(Date.now() + hourMs);
      const tokenHash = await createTokenFor(userId, 'password_reset', expiresAt);
      const expiresAtMs = expiresAt.getTime();

      assert.deepEqual(
        await store().findValidToken(tokenHash, 'password_reset', new Date(expiresAtMs - 1000)),
        { userId, email: null },
      );
      assert.equal(await store().findValidToken(tokenHash, 'password_reset', new Date(expiresAtMs)), null);
      assert.equal(
        await store().findValidToken(tokenHash, 'password_reset', new Date(expiresAtMs + 1000)),
        null,
      );
      assert.equal(
        await store().consumeToken(tokenHash, 'password_reset', new Date(expiresAtMs + 1000)),
        null,
      );
    });

    test('a token created already expired never works', async () => {
      const userId = await underTest().createUserId();
      const tokenHash = await createTokenFor(userId, 'email_verification', new Date(Date.now() - 60_000));

      assert.equal(await store().findValidToken(tokenHash, 'email_verification', new Date()), null);
      assert.equal(await store().consumeToken(tokenHash, 'email_verification', new Date()), null);
    });

    test('a token works only for its own purpose: a verification token cannot reset a password', async () => {
      const userId = await underTest().createUserId();
      const tokenHash = await createTokenFor(userId, 'email_verification');

      assert.equal(await store().findValidToken(tokenHash, 'password_reset', new Date()), null);
      assert.equal(await store().consumeToken(tokenHash, 'password_reset', new Date()), null);
      // The failed attempt under the wrong purpose did not use it up.
      assert.deepEqual(await store().consumeToken(tokenHash, 'email_verification', new Date()), {
        userId,
        email: null,
      });
    });

    test('a token works once: after it is consumed it is neither found nor consumed again', async () => {
      const userId = await underTest().createUserId();
      const tokenHash = await createTokenFor(userId);

      assert.deepEqual(await store().consumeToken(tokenHash, 'password_reset', new Date()), {
        userId,
        email: null,
      });

      assert.equal(await store().findValidToken(tokenHash, 'password_reset', new Date()), null);
      assert.equal(await store().consumeToken(tokenHash, 'password_reset', new Date()), null);
    });

    test("consuming one token leaves the same user's other tokens working", async () => {
      const userId = await underTest().createUserId();
      const consumed = await createTokenFor(userId);
      const other = await createTokenFor(userId);

      await store().consumeToken(consumed, 'password_reset', new Date());

      assert.deepEqual(await store().findValidToken(other, 'password_reset', new Date()), {
        userId,
        email: null,
      });
    });

    test('a reset token works once, even when twenty requests race for it', async () => {
      const userId = await underTest().createUserId();
      const tokenHash = await createTokenFor(userId);

      const results = await Promise.all(
        Array.from({ length: 20 }, () => store().consumeToken(tokenHash, 'password_reset', new Date())),
      );

      const winners = results.filter((result) => result !== null);
      assert.deepEqual(winners, [{ userId, email: null }]);
      assert.equal(await store().findValidToken(tokenHash, 'password_reset', new Date()), null);
    });

    test('invalidateUserTokens stops every unused token of that purpose and user, and no other token', async () => {
      const userId = await underTest().createUserId();
      const otherUserId = await underTest().createUserId();
      const invalidated = [
        await createTokenFor(userId),
        await createTokenFor(userId),
        await createTokenFor(userId),
      ];
      const otherPurpose = await createTokenFor(userId, 'email_verification');
      const otherUsers = await createTokenFor(otherUserId);

      await store().invalidateUserTokens(userId, 'password_reset', new Date());

      for (const tokenHash of invalidated) {
        assert.equal(await store().findValidToken(tokenHash, 'password_reset', new Date()), null);
        assert.equal(await store().consumeToken(tokenHash, 'password_reset', new Date()), null);
      }
      assert.deepEqual(await store().findValidToken(otherPurpose, 'email_verification', new Date()), {
        userId,
        email: null,
      });
      assert.deepEqual(await store().findValidToken(otherUsers, 'password_reset', new Date()), {
        userId: otherUserId,
        email: null,
      });
    });

    test('a token created after invalidateUserTokens works', async () => {
      const userId = await underTest().createUserId();
      await createTokenFor(userId);
      await store().invalidateUserTokens(userId, 'password_reset', new Date());

      const fresh = await createTokenFor(userId);

      assert.deepEqual(await store().consumeToken(fresh, 'password_reset', new Date()), {
        userId,
        email: null,
      });
    });

    test('a token carries the address it was created with, and an address filter invalidates only those', async () => {
      const userId = await underTest().createUserId();
      const expiresAt = new Date(Date.now() + hourMs);
      const [oldAddress, olderAddress] = ['Old@Example.test', 'older@example.test'];
      const forOld = hashToken(generateToken());
      const forOlder = hashToken(generateToken());
      await store().createToken({
        tokenHash: forOld,
        purpose: 'email_change_cancel',
        userId,
        expiresAt,
        email: oldAddress,
      });
      await store().createToken({
        tokenHash: forOlder,
        purpose: 'email_change_cancel',
        userId,
        expiresAt,
        email: olderAddress,
      });
      assert.deepEqual(await store().findValidToken(forOld, 'email_change_cancel', new Date()), {
        userId,
        email: oldAddress,
      });

      await store().invalidateUserTokens(userId, 'email_change_cancel', new Date(), { email: oldAddress });

      assert.equal(await store().consumeToken(forOld, 'email_change_cancel', new Date()), null);
      assert.deepEqual(await store().consumeToken(forOlder, 'email_change_cancel', new Date()), {
        userId,
        email: olderAddress,
      });
    });

    test('invalidating the tokens of a user without any is not an error', async () => {
      await store().invalidateUserTokens(await underTest().createUserId(), 'email_verification', new Date());
    });
  });
}
