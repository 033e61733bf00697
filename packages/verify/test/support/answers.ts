// What a service guarded by the fastify plugin or the Connect middleware answers: both tests run the same cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeIssuer } from './issuer.ts';
import { nowSeconds } from './issuer.ts';

export interface GuardedService {
  /** Base URL of a service whose GET /whoami is guarded and answers the claims; GET /health is public. */
  readonly url: string;
}

async function call(
  service: GuardedService,
  path: string,
  authorization?: string,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/**
 * The answers every guarded service gives (its verifier's cooldown at most 0.1 s). The last case stops `issuer`.
 */
export function testGuardedAnswers(setup: () => { service: GuardedService; issuer: FakeIssuer }): void {
  test('a valid bearer token reaches the route with its claims', async () => {
    const { service, issuer } = setup();
    const token = await issuer.mint({ claims: { sub: 'f1d9b0e4-7a35-4a57-9e3a-7f2a6a9d6b10' } });
    const answer = await call(service, '/whoami', `Bearer ${token}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.sub, 'f1d9b0e4-7a35-4a57-9e3a-7f2a6a9d6b10');
    assert.equal(answer.body.email, 'ada@example.com');
  });

  test('no credentials: 401 with a bare Bearer challenge', async () => {
    const { service } = setup();
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ']) {
      const answer = await call(service, '/whoami', authorization);
      assert.equal(answer.status, 401, String(authorization));
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer');
      assert.equal(answer.body.code, 'token_missing');
      assert.equal(answer.headers.get('cache-control'), 'no-store');
    }
  });

  test('a bad or expired token: 401 with error="invalid_token"', async () => {
    const { service, issuer } = setup();
    const now = nowSeconds();
    const cases = [
      [issuer.mintUnsigned(), 'token_invalid'],
      [issuer.mintWithPublicKeyAsSecret('raw'), 'token_invalid'],
      ['dGhpcy1pcy1hbi1vcGFxdWUtc2Vzc2lvbi10b2tlbg', 'token_invalid'],
      [await issuer.mint({ claims: { aud: 'elsewhere' } }), 'token_invalid'],
      [await issuer.mint({ claims: { iat: now - 400, exp: now - 100 } }), 'token_expired'],
    ] as const;
    for (const [token, code] of cases) {
      const answer = await call(service, '/whoami', `Bearer ${token}`);
      assert.equal(answer.status, 401, code);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assert.equal(answer.body.code, code);
      assert.equal(typeof answer.body.detail, 'string');
    }
  });

  test('public routes outside the guard need no token', async () => {
    const { service } = setup();
    assert.equal((await call(service, '/health')).status, 200);
  });

  test('the issuer down: cached keys still verify; an unknown key gets 503 with Retry-After', async () => {
    const { service, issuer } = setup();
    const token = await issuer.mint();
    assert.equal((await call(service, '/whoami', `Bearer ${token}`)).status, 200);
    await issuer.setAvailability('stopped');
    assert.equal((await call(service, '/whoami', `Bearer ${token}`)).status, 200);
    // Past the verifier's cooldown (0.1 s): inside it, an unknown kid is refused without asking (401).
    await sleep(150);
    const next = await issuer.publishKey();
    const answer = await call(service, '/whoami', `Bearer ${await issuer.mint({ key: next })}`);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.code, 'jwks_unavailable');
    assert.ok(Number(answer.headers.get('retry-after')) > 0);
    assert.equal(answer.headers.get('www-authenticate'), null);
  });
}
