import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createVerifier, VerificationError, type Verifier } from '../src/index.ts';
import { FakeIssuer, nowSeconds } from './support/issuer.ts';

async function assertRefused(
  verifier: Verifier,
  token: string,
  code: VerificationError['code'],
): Promise<void> {
  await assert.rejects(verifier.verify(token), (error: unknown) => {
    assert.ok(error instanceof VerificationError, `a VerificationError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.statusCode, code === 'jwks_unavailable' ? 503 : 401);
    return true;
  });
}

describe('verify: what a Latchkey access token must be', () => {
  let issuer: FakeIssuer;
  let verifier: Verifier;

  before(async () => {
    issuer = await FakeIssuer.start();
    verifier = createVerifier({ issuer: issuer.url, jwksUrl: issuer.jwksUrl });
  });
  after(() => issuer.close());

  test('a token as Latchkey mints it gives its claims', async () => {
    const sub = randomUUID();
    const claims = await verifier.verify(await issuer.mint({ claims: { sub, email_verified: false } }));
    assert.equal(claims.sub, sub);
    assert.equal(claims.iss, issuer.url);
    assert.equal(claims.aud, issuer.url);
    assert.equal(claims.email, 'ada@example.com');
    assert.equal(claims.email_verified, false);
    assert.equal(typeof claims.sid, 'string');
    assert.equal(typeof claims.jti, 'string');
    assert.equal(claims.exp - claims.iat, 300);
  });

  test('the JWKS URL defaults to <issuer>/.well-known/jwks.json', async () => {
    const byDefault = createVerifier({ issuer: issuer.url });
    assert.equal((await byDefault.verify(await issuer.mint())).iss, issuer.url);
  });

  test('alg "none" is refused, and costs no fetch of the key set', async () => {
    const fresh = createVerifier({ issuer: issuer.url });
    const before = issuer.jwksRequests;
    await assertRefused(fresh, issuer.mintUnsigned(), 'token_invalid');
    await assertRefused(fresh, issuer.mintUnsigned('c2lnbmF0dXJl'), 'token_invalid');
    assert.equal(issuer.jwksRequests, before);
  });

  test('HS256 signed with the public key as secret (raw bytes or the JWK) is refused', async () => {
    await assertRefused(verifier, issuer.mintWithPublicKeyAsSecret('raw'), 'token_invalid');
    await assertRefused(verifier, issuer.mintWithPublicKeyAsSecret('jwk'), 'token_invalid');
  });

  test('a correctly signed token of another algorithm is refused, even with its key in the JWKS', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    issuer.published = [
      ...issuer.published,
      { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    ];
    const token = await new SignJWT(issuer.claimsFor())
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(privateKey);
    await assertRefused(createVerifier({ issuer: issuer.url }), token, 'token_invalid');
  });

  test('a wrong issuer, audience or typ is refused', async () => {
    await assertRefused(
      verifier,
      await issuer.mint({ claims: { iss: 'http://evil.example' } }),
      'token_invalid',
    );
    await assertRefused(verifier, await issuer.mint({ claims: { aud: 'another-service' } }), 'token_invalid');
    await assertRefused(verifier, await issuer.mint({ header: { typ: 'JWT' } }), 'token_invalid');
    await assertRefused(verifier, await issuer.mint({ header: { typ: undefined } }), 'token_invalid');
  });

  test('the audience option names the audience this service accepts', async () => {
    const billing = createVerifier({ issuer: issuer.url, audience: 'billing' });
    assert.equal((await billing.verify(await issuer.mint({ claims: { aud: 'billing' } }))).aud, 'billing');
    assert.deepEqual((await billing.verify(await issuer.mint({ claims: { aud: ['x', 'billing'] } }))).aud, [
      'x',
      'billing',
    ]);
    await assertRefused(billing, await issuer.mint(), 'token_invalid');
  });

  test('opaque session and refresh tokens, and other non-JWTs, are refused', async () => {
    for (const token of [
      randomBytes(32).toString('base64url'),
      randomBytes(32).toString('base64url'),
      '',
      'a.b',
      'a.b.c.d',
      '...',
      `${randomBytes(5000).toString('base64url')}.${'a'.repeat(10)}.b`,
    ]) {
      await assertRefused(verifier, token, 'token_invalid');
    }
  });

  test('a token signed by another key under a published kid, or altered after signing, is refused', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT(issuer.claimsFor())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: issuer.current.kid })
      .sign(privateKey);
    await assertRefused(verifier, forged, 'token_invalid');

    const [header, , signature] = (await issuer.mint()).split('.');
    const altered = Buffer.from(JSON.stringify(issuer.claimsFor({ sub: randomUUID() }))).toString(
      'base64url',
    );
    await assertRefused(verifier, `${header}.${altered}.${signature}`, 'token_invalid');
  });

  test('a token without kid is refused', async () => {
    await assertRefused(verifier, await issuer.mint({ header: { kid: undefined } }), 'token_invalid');
  });

  test('expiry allows 30 s of clock skew, and no more', async () => {
    const now = nowSeconds();
    assert.ok(await verifier.verify(await issuer.mint({ claims: { iat: now - 320, exp: now - 20 } })));
    await assertRefused(
      verifier,
      await issuer.mint({ claims: { iat: now - 340, exp: now - 40 } }),
      'token_expired',
    );
  });

  test('nbf or iat in the future beyond 30 s is refused; within the skew it is accepted', async () => {
    const now = nowSeconds();
    assert.ok(await verifier.verify(await issuer.mint({ claims: { nbf: now + 20 } })));
    assert.ok(await verifier.verify(await issuer.mint({ claims: { iat: now + 20, exp: now + 300 } })));
    await assertRefused(verifier, await issuer.mint({ claims: { nbf: now + 40 } }), 'token_invalid');
    await assertRefused(
      verifier,
      await issuer.mint({ claims: { iat: now + 40, exp: now + 300 } }),
      'token_invalid',
    );
  });

  test('the clock tolerance is an option', async () => {
    const strict = createVerifier({ issuer: issuer.url, clockToleranceSeconds: 0 });
    const now = nowSeconds();
    await assertRefused(
      strict,
      await issuer.mint({ claims: { iat: now - 320, exp: now - 20 } }),
      'token_expired',
    );
  });

  test('a token missing a claim, or with a claim of the wrong type, is refused', async () => {
    for (const claims of [
      { sid: undefined },
      { sub: undefined },
      { jti: undefined },
      { email: undefined },
      { exp: undefined },
      { iat: undefined },
      { email_verified: 'true' },
      { email: 42 },
      { sub: '' },
    ]) {
      await assertRefused(verifier, await issuer.mint({ claims }), 'token_invalid');
    }
  });

  test('a token living longer than 900 s is refused, whatever its signature', async () => {
    const now = nowSeconds();
    assert.ok(await verifier.verify(await issuer.mint({ claims: { iat: now, exp: now + 900 } })));
    await assertRefused(
      verifier,
      await issuer.mint({ claims: { iat: now, exp: now + 901 } }),
      'token_invalid',
    );
    await assertRefused(
      verifier,
      await issuer.mint({ claims: { iat: now, exp: now + 86_400 * 365 } }),
      'token_invalid',
    );
  });

  test('a token verified before is refused once it expires, though remembered', async () => {
    const strict = createVerifier({ issuer: issuer.url, clockToleranceSeconds: 0 });
    const now = nowSeconds();
    const token = await issuer.mint({ claims: { iat: now, exp: now + 2 } });
    assert.ok(await strict.verify(token));
    assert.ok(await strict.verify(token));
    await sleep(2_100);
    await assertRefused(strict, token, 'token_expired');
  });

  test('the claims handed out cannot be changed by one caller for the next', async () => {
    const token = await issuer.mint({ claims: { aud: [issuer.url, 'other'] } });
    const first = await verifier.verify(token);
    assert.throws(() => {
      (first as { email: string }).email = 'mallory@example.com';
    }, TypeError);
    assert.throws(() => (first.aud as string[]).push('mallory'), TypeError);
    assert.equal((await verifier.verify(token)).email, 'ada@example.com');
  });
});
