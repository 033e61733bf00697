import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, beforeEach, describe, test } from 'node:test';
import { createVerifier, VerificationError } from '../src/index.ts';
import { createSigningKey, FakeIssuer } from './support/issuer.ts';

function refusalCode(error: unknown): string {
  assert.ok(error instanceof VerificationError, `a VerificationError, not ${String(error)}`);
  return error.code;
}

describe('the key set: cache, cooldown, rotation and outages', () => {
  let issuer: FakeIssuer;

  beforeEach(async () => {
    await issuer?.close();
    issuer = await FakeIssuer.start();
  });
  after(() => issuer.close());

  test('the key set is fetched once for many verifications, also when they race', async () => {
    const verifier = createVerifier({ issuer: issuer.url });
    const token = await issuer.mint();
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    for (let index = 0; index < 20; index += 1) await verifier.verify(await issuer.mint());
    assert.equal(issuer.jwksRequests, 1);
  });

  test('a flood of unknown kids makes one fetch per cooldown, not one per token', async () => {
    const verifier = createVerifier({ issuer: issuer.url, jwksCooldownSeconds: 1 });
    const stranger = await createSigningKey();
    const mintFlood = async (): Promise<string[]> =>
      Promise.all(
        Array.from({ length: 50 }, () => issuer.mint({ key: stranger, header: { kid: randomUUID() } })),
      );
    const floods = [await mintFlood(), await mintFlood(), await mintFlood()];
    const verifyFlood = async (tokens: string[]): Promise<Set<string>> =>
      new Set(
        await Promise.all(tokens.map((token) => verifier.verify(token).then(() => 'accepted', refusalCode))),
      );

    await verifier.verify(await issuer.mint());
    assert.equal(issuer.jwksRequests, 1);
    // Within the cooldown of the first fetch: no fetch at all.
    assert.deepEqual(await verifyFlood(floods[0]!), new Set(['token_invalid']));
    assert.equal(issuer.jwksRequests, 1);

    await sleep(1_100);
    assert.deepEqual(await verifyFlood(floods[1]!), new Set(['token_invalid']));
    assert.equal(issuer.jwksRequests, 2, 'one refetch for the whole flood');
    assert.deepEqual(await verifyFlood(floods[2]!), new Set(['token_invalid']));
    assert.equal(issuer.jwksRequests, 2, 'none more until the cooldown passes');
  });

  test('a rotation: old tokens keep working during the overlap, the new kid costs one refetch', async () => {
    const verifier = createVerifier({ issuer: issuer.url, jwksCooldownSeconds: 0.2 });
    const old = issuer.current;
    const oldToken = await issuer.mint();
    await verifier.verify(oldToken);
    assert.equal(issuer.jwksRequests, 1);
    await sleep(250);

    // Published beside the old key, then signing: the verifier cached the set before the publication.
    const next = await issuer.publishKey();
    issuer.current = next;
    const newToken = await issuer.mint();
    assert.equal((await verifier.verify(newToken)).iss, issuer.url);
    assert.equal(issuer.jwksRequests, 2);
    await verifier.verify(newToken);
    await verifier.verify(oldToken);
    await verifier.verify(await issuer.mint({ key: old }));
    assert.equal(issuer.jwksRequests, 2, 'both keys come from the one refetched set');

    // Retired: once the cache is refreshed, the old key's tokens are refused.
    issuer.unpublishKey(old);
    const refreshed = createVerifier({ issuer: issuer.url });
    await refreshed.verify(newToken);
    await assert.rejects(refreshed.verify(oldToken), (error) => refusalCode(error) === 'token_invalid');
  });

  test('a key removed from the set stops verifying once the cache max-age has passed', async () => {
    const verifier = createVerifier({
      issuer: issuer.url,
      jwksCacheMaxAgeSeconds: 0.3,
      jwksCooldownSeconds: 0.1,
    });
    const token = await issuer.mint();
    await verifier.verify(token);
    const replacement = await issuer.publishKey();
    issuer.unpublishKey(issuer.current);
    issuer.current = replacement;
    await verifier.verify(token);
    await sleep(1_100);
    await assert.rejects(verifier.verify(token), (error) => refusalCode(error) === 'token_invalid');
  });

  test('with the issuer down, cached keys keep verifying, past the cache max-age too', async () => {
    const verifier = createVerifier({
      issuer: issuer.url,
      jwksCacheMaxAgeSeconds: 0.2,
      jwksCooldownSeconds: 0.2,
    });
    const token = await issuer.mint();
    await verifier.verify(token);
    await issuer.setAvailability('stopped');
    await sleep(300);
    assert.equal((await verifier.verify(token)).iss, issuer.url);
    assert.equal((await verifier.verify(await issuer.mint())).iss, issuer.url);

    // A kid nobody cached cannot be judged: 503, not 401.
    const unknown = await issuer.mint({ key: await createSigningKey() });
    await assert.rejects(verifier.verify(unknown), (error) => refusalCode(error) === 'jwks_unavailable');

    // Back up: the set is fetched again and a new key is found.
    await issuer.setAvailability('up');
    await sleep(300);
    const next = await issuer.publishKey();
    assert.equal((await verifier.verify(await issuer.mint({ key: next }))).iss, issuer.url);
  });

  test('a failing key set endpoint is asked at most once per cooldown while cached keys serve', async () => {
    const verifier = createVerifier({
      issuer: issuer.url,
      jwksCacheMaxAgeSeconds: 0.1,
      jwksCooldownSeconds: 0.5,
    });
    const token = await issuer.mint();
    await verifier.verify(token);
    await issuer.setAvailability('failing');
    await sleep(150);
    const before = issuer.jwksRequests;
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    for (let index = 0; index < 20; index += 1) await verifier.verify(token);
    assert.equal(issuer.jwksRequests - before, 1);
  });

  test('with the issuer down and nothing cached, every token is jwks_unavailable (503)', async () => {
    const token = await issuer.mint();
    for (const availability of ['stopped', 'failing'] as const) {
      await issuer.setAvailability(availability);
      const verifier = createVerifier({ issuer: issuer.url, jwksTimeoutSeconds: 1 });
      await assert.rejects(verifier.verify(token), (error: unknown) => {
        assert.equal(refusalCode(error), 'jwks_unavailable');
        assert.equal((error as VerificationError).statusCode, 503);
        return true;
      });
    }
  });

  test('a key set endpoint that does not answer in time is jwks_unavailable', async () => {
    const { createServer } = await import('node:http');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = silent.address() as { port: number };
      const verifier = createVerifier({
        issuer: issuer.url,
        jwksUrl: `http://127.0.0.1:${address.port}/jwks.json`,
        jwksTimeoutSeconds: 0.3,
      });
      await assert.rejects(
        verifier.verify(await issuer.mint()),
        (error) => refusalCode(error) === 'jwks_unavailable',
      );
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
