import assert from 'node:assert/strict';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Session } from '../../src/flows/model.ts';
import {
  createSigningKeyRing,
  maintainSigningKeys,
  mintAccessToken,
  publicationLeadSeconds,
  retentionSeconds,
  rotateSigningKey,
  signingKeyStateAt,
  type SigningKeyContext,
  type SigningKeyRing,
} from '../../src/flows/signing-keys.ts';
import { publicSessionId } from '../../src/flows/sessions.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { createManualClock, type ManualClock } from '../../src/storage/memory/clock.ts';
import { MemorySigningKeyStore } from '../../src/storage/memory/signing-key-store.ts';

const timeline = { jwksMaxAgeSeconds: 300, reloadIntervalSeconds: 60, accessTokenLifetimeSeconds: 300 };
const daySeconds = 24 * 60 * 60;

function createContext(
  secretKey = 'flow-test-secret',
  shared?: { store: MemorySigningKeyStore; clock: ManualClock },
): SigningKeyContext & { store: MemorySigningKeyStore; clock: ManualClock } {
  return {
    store: shared?.store ?? new MemorySigningKeyStore(),
    clock: shared?.clock ?? createManualClock(),
    box: createSecretBox(secretKey, 'jwt-signing-key'),
    timeline,
  };
}

function ringOf(
  context: SigningKeyContext,
  events: { unopenable: string[]; created: string[] } = { unopenable: [], created: [] },
): SigningKeyRing {
  return createSigningKeyRing({
    ...context,
    onUnopenableKey: (kid) => events.unopenable.push(kid),
    onKeyCreated: (kid) => events.created.push(kid),
  });
}

/** The kids in the ring's JWKS now, sorted. */
function publishedKids(ring: SigningKeyRing): (string | undefined)[] {
  return ring
    .publishedKeys()
    .map((key) => key.kid)
    .sort();
}

const session: Session = {
  tokenHash: 'a'.repeat(64),
  userId: '00000000-0000-4000-8000-000000000001',
  email: 'alice@example.test',
  isActive: true,
  isVerified: true,
  createdAt: new Date('2026-01-15T09:00:00.000Z'),
  expiresAt: new Date('2026-01-16T09:00:00.000Z'),
  lastSeenAt: new Date('2026-01-15T09:00:00.000Z'),
  ip: null,
  userAgent: null,
};

describe('JWT signing keys', () => {
  test('the timeline: published max-age + reload + 5 s before signing; kept token lifetime + max-age + 5 s after', () => {
    assert.equal(publicationLeadSeconds(timeline), 365);
    assert.equal(retentionSeconds(timeline), 605);
    assert.ok(publicationLeadSeconds(timeline) > timeline.jwksMaxAgeSeconds);
  });

  test('the first start creates one key that signs at once; instances starting together end up with the same key', async () => {
    const context = createContext();
    const rings = [ringOf(context), ringOf(context), ringOf(context)];
    await Promise.all(rings.map((ring) => ring.reload()));

    const keys = await context.store.listSigningKeys();
    assert.equal(keys.length, 1);
    for (const ring of rings) {
      assert.equal(ring.currentSigningKey().kid, keys[0]?.kid);
      assert.deepEqual(
        ring.publishedKeys().map((key) => key.kid),
        [keys[0]?.kid],
      );
    }
    assert.equal(signingKeyStateAt(keys[0]!, context.clock.now()), 'signing');
  });

  test('a rotation publishes the new key at once and every instance switches to it exactly at its start', async () => {
    const context = createContext();
    const ring = ringOf(context);
    await ring.reload();
    const oldKid = ring.currentSigningKey().kid;

    const outcome = await rotateSigningKey(context);
    assert.equal(outcome.rotated, true);
    const newKid = outcome.key?.kid;
    await ring.reload();
    assert.deepEqual(publishedKids(ring), [oldKid, newKid].sort());

    context.clock.advanceSeconds(publicationLeadSeconds(timeline) - 1);
    assert.equal(ring.currentSigningKey().kid, oldKid, 'not a second early');
    context.clock.advanceSeconds(1);
    assert.equal(ring.currentSigningKey().kid, newKid, 'at the published start');

    // The old key verifies its last tokens for a lifetime + max-age + 5 s, then leaves the JWKS.
    context.clock.advanceSeconds(retentionSeconds(timeline) - 1);
    assert.deepEqual(publishedKids(ring), [oldKid, newKid].sort());
    context.clock.advanceSeconds(1);
    assert.deepEqual(publishedKids(ring), [newKid]);
  });

  test('a rotation while one is pending changes nothing, however many instances ask', async () => {
    const context = createContext();
    await ringOf(context).reload();
    const outcomes = await Promise.all([
      rotateSigningKey(context),
      rotateSigningKey(context),
      rotateSigningKey(context),
    ]);
    assert.equal(outcomes.filter((outcome) => outcome.rotated).length, 1);
    assert.equal(new Set(outcomes.map((outcome) => outcome.key?.kid)).size, 1);
    assert.equal((await context.store.listSigningKeys()).length, 2);

    context.clock.advanceSeconds(publicationLeadSeconds(timeline) - 1);
    assert.equal((await rotateSigningKey(context)).rotated, false);
    context.clock.advanceSeconds(1);
    assert.equal((await rotateSigningKey(context)).rotated, true, 'once it signs, the next may come');
  });

  test('the clean-up rotates when the newest key is JWT_KEY_ROTATION_DAYS old, once, and deletes keys out of the JWKS', async () => {
    const context = createContext();
    await ringOf(context).reload();
    context.clock.advanceSeconds(30 * daySeconds - 1);
    assert.deepEqual(await maintainSigningKeys(context, 30), { rotated: false, deleted: 0 });
    context.clock.advanceSeconds(1);
    const [a, b] = await Promise.all([maintainSigningKeys(context, 30), maintainSigningKeys(context, 30)]);
    assert.equal(Number(a.rotated) + Number(b.rotated), 1, 'two instances rotate once');
    assert.equal((await context.store.listSigningKeys()).length, 2);

    // The old key leaves the JWKS a lead + retention after the rotation; the pass after deletes it.
    context.clock.advanceSeconds(publicationLeadSeconds(timeline) + retentionSeconds(timeline));
    assert.deepEqual(await maintainSigningKeys(context, 30), { rotated: false, deleted: 0 });
    context.clock.advanceSeconds(1);
    assert.deepEqual(await maintainSigningKeys(context, 30), { rotated: false, deleted: 1 });
    assert.equal((await context.store.listSigningKeys()).length, 1);
  });

  test('a key sealed under another SECRET_KEY is not used to sign: a fresh key signs, reported once', async () => {
    const before = createContext('the old secret');
    await ringOf(before).reload();
    const [oldKey] = await before.store.listSigningKeys();

    const after = createContext('the new secret', before);
    const events = { unopenable: [] as string[], created: [] as string[] };
    const ring = ringOf(after, events);
    await ring.reload();
    await ring.reload();

    assert.deepEqual(events.unopenable, [oldKey?.kid], 'reported once, not at every reload');
    assert.equal(events.created.length, 1);
    const current = ring.currentSigningKey();
    assert.notEqual(current.kid, oldKey?.kid);
    assert.equal(current.kid, events.created[0]);
    // The old key still verifies the tokens it signed until they expire, then leaves the JWKS.
    assert.ok(ring.publishedKeys().some((key) => key.kid === oldKey?.kid));
    after.clock.advanceSeconds(retentionSeconds(timeline));
    assert.ok(!ring.publishedKeys().some((key) => key.kid === oldKey?.kid));
  });

  test('while SECRET_KEY changes instance by instance, neither side replaces the keys of the other at every reload', async () => {
    const old = createContext('the old secret');
    const oldRing = ringOf(old);
    await oldRing.reload();
    const [oldKey] = await old.store.listSigningKeys();
    const changed = createContext('the new secret', old);
    const newRing = ringOf(changed);
    await newRing.reload();
    const [, newKey] = await old.store.listSigningKeys();
    assert.ok(oldKey && newKey);

    for (let reload = 0; reload < 3; reload++) {
      old.clock.advanceSeconds(timeline.reloadIntervalSeconds);
      await Promise.all([oldRing.reload(), newRing.reload()]);
    }
    assert.equal((await old.store.listSigningKeys()).length, 2, 'no key added after the first');
    assert.equal(newRing.currentSigningKey().kid, newKey.kid);
    assert.equal(oldRing.currentSigningKey().kid, oldKey.kid, 'the old side signs with the key it can open');

    // Once the old key has left the JWKS its tokens would not verify: the old side mints none with it.
    const [retired] = await old.store.listSigningKeys();
    assert.ok(retired?.publishedUntil);
    old.clock.set(new Date(retired.publishedUntil.getTime() - 1000));
    assert.equal(oldRing.currentSigningKey().kid, oldKey.kid);
    old.clock.advanceSeconds(1);
    assert.throws(() => oldRing.currentSigningKey(), { name: 'DependencyUnavailableError' });
  });

  test('without any loaded key nothing is signed: 503, not a token', () => {
    const ring = ringOf(createContext());
    assert.throws(() => ring.currentSigningKey(), { name: 'DependencyUnavailableError' });
  });

  test('a minted token carries the documented header and claims, signed by the current key', async () => {
    const context = createContext();
    const ring = ringOf(context);
    await ring.reload();
    const settings = { issuer: 'https://auth.example.test', audience: 'api', lifetimeSeconds: 300 };
    const { accessToken, expiresInSeconds } = mintAccessToken(ring, context.clock, settings, session);
    const [header, payload, signature] = accessToken.split('.');
    const decode = (part: string | undefined): Record<string, unknown> =>
      JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

    assert.equal(expiresInSeconds, 300);
    assert.deepEqual(decode(header), { alg: 'EdDSA', typ: 'at+jwt', kid: ring.currentSigningKey().kid });
    const claims = decode(payload);
    const iat = context.clock.now().getTime() / 1000;
    assert.deepEqual(
      { ...claims, jti: undefined },
      {
        iss: 'https://auth.example.test',
        sub: session.userId,
        aud: 'api',
        iat,
        exp: iat + 300,
        jti: undefined,
        sid: publicSessionId(session.tokenHash),
        email: 'alice@example.test',
        email_verified: true,
      },
    );
    const jwk = ring.publishedKeys()[0];
    assert.ok(jwk);
    const publicKey = createPublicKey({ key: { ...jwk }, format: 'jwk' });
    assert.ok(
      verifySignature(
        null,
        Buffer.from(`${header}.${payload}`),
        publicKey,
        Buffer.from(signature ?? '', 'base64url'),
      ),
    );
  });
});
