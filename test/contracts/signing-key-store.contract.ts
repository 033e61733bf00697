import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { SigningKeyStore, StoredSigningKey } from '../../src/flows/ports.ts';
import { describeContract } from './describe-contract.ts';

export interface SigningKeyStoreUnderTest {
  readonly store: SigningKeyStore;
  close(): Promise<void>;
}

const second = 1000;

/** A key of `generation`, created at `createdAt` and signing from then; its parts are opaque to the store. */
function keyOf(generation: number, createdAt: Date, signingStartsAt = createdAt): StoredSigningKey {
  const kid = randomBytes(16).toString('base64url');
  return {
    kid,
    generation,
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: randomBytes(32).toString('base64url'), kid }),
    sealedPrivateKey: randomBytes(64).toString('base64'),
    createdAt,
    signingStartsAt,
    signingEndsAt: null,
    publishedUntil: null,
  };
}

function retireAt(signingEndsAt: Date): { signingEndsAt: Date; publishedUntil: Date } {
  return { signingEndsAt, publishedUntil: new Date(signingEndsAt.getTime() + 60 * second) };
}

/**
 * The SigningKeyStore port's rules; every adapter runs them on a fresh store each (the key set is global:
 * rules about "the first key" need an empty one).
 */
export function describeSigningKeyStoreContract(
  adapterName: string,
  createStore: () => Promise<SigningKeyStoreUnderTest>,
): void {
  describeContract(`SigningKeyStore contract: ${adapterName}`, createStore, 'test', (underTest) => {
    const store = (): SigningKeyStore => underTest().store;

    test('a stored key is listed with every field as given, the oldest generation first', async () => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const first = keyOf(1, now);
      const second_ = keyOf(2, now, new Date(now.getTime() + 300 * second));
      assert.equal(await store().insertSigningKey(first, retireAt(now)), true);
      assert.equal(await store().insertSigningKey(second_, retireAt(second_.signingStartsAt)), true);

      const listed = await store().listSigningKeys();
      assert.deepEqual(
        listed.map((key) => key.generation),
        [1, 2],
      );
      assert.deepEqual(listed[1], second_);
      assert.equal(listed[0]?.sealedPrivateKey, first.sealedPrivateKey);
      assert.equal(listed[0]?.publicJwk, first.publicJwk);
    });

    test('adding a key retires the keys before it at the given times, and only those still without an end', async () => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const starts2 = new Date(now.getTime() + 100 * second);
      const starts3 = new Date(now.getTime() + 500 * second);
      await store().insertSigningKey(keyOf(1, now), retireAt(now));
      await store().insertSigningKey(keyOf(2, now, starts2), retireAt(starts2));
      await store().insertSigningKey(keyOf(3, now, starts3), retireAt(starts3));

      const [first, second_, third] = await store().listSigningKeys();
      assert.deepEqual(
        [first?.signingEndsAt, first?.publishedUntil],
        [starts2, retireAt(starts2).publishedUntil],
      );
      assert.deepEqual(
        [second_?.signingEndsAt, second_?.publishedUntil],
        [starts3, retireAt(starts3).publishedUntil],
      );
      assert.deepEqual([third?.signingEndsAt, third?.publishedUntil], [null, null]);
    });

    test('of twenty instances adding the same generation at once, exactly one does; the others change nothing', async () => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      await store().insertSigningKey(keyOf(1, now), retireAt(now));
      const later = new Date(now.getTime() + 10 * second);
      const candidates = Array.from({ length: 20 }, () => keyOf(2, now, later));
      const results = await Promise.all(
        candidates.map((key, index) =>
          store().insertSigningKey(key, retireAt(new Date(later.getTime() + index * second))),
        ),
      );

      assert.equal(results.filter(Boolean).length, 1);
      const winner = candidates[results.indexOf(true)];
      const keys = await store().listSigningKeys();
      assert.deepEqual(
        keys.map((key) => key.kid),
        [keys[0]?.kid, winner?.kid],
      );
      // The predecessor got the winner's end times, not a loser's.
      assert.deepEqual(keys[0]?.signingEndsAt, retireAt(later).signingEndsAt);
    });

    test('a key whose kid is stored already is refused and changes nothing', async () => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const first = keyOf(1, now);
      await store().insertSigningKey(first, retireAt(now));
      assert.equal(
        await store().insertSigningKey({ ...keyOf(2, now), kid: first.kid }, retireAt(now)),
        false,
      );
      const keys = await store().listSigningKeys();
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.signingEndsAt, null);
    });

    test('only keys that left the JWKS before the cutoff are deleted; current and pending keys stay', async () => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const starts2 = new Date(now.getTime() + 10 * second);
      const starts3 = new Date(now.getTime() + 1000 * second);
      await store().insertSigningKey(keyOf(1, now), retireAt(starts2));
      await store().insertSigningKey(keyOf(2, now, starts2), retireAt(starts2));
      await store().insertSigningKey(keyOf(3, now, starts3), retireAt(starts3));
      // Key 1 leaves the JWKS 70 s from now, key 2 1060 s from now, key 3 has no end.

      assert.equal(
        await store().deleteSigningKeysUnpublishedBefore(new Date(now.getTime() + 69 * second)),
        0,
      );
      assert.equal(
        await store().deleteSigningKeysUnpublishedBefore(new Date(now.getTime() + 71 * second)),
        1,
      );
      assert.deepEqual(
        (await store().listSigningKeys()).map((key) => key.generation),
        [2, 3],
      );
      assert.equal(
        await store().deleteSigningKeysUnpublishedBefore(new Date(now.getTime() + 100_000 * second)),
        1,
      );
      assert.deepEqual(
        (await store().listSigningKeys()).map((key) => key.generation),
        [3],
      );
    });
  });
}
