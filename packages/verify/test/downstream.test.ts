import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { downstreamScript, startDownstream, type DownstreamProcess } from './support/downstream.ts';
import { FakeIssuer } from './support/issuer.ts';

describe('the example downstream app, in its own process, against a fake issuer', () => {
  let issuer: FakeIssuer;
  let downstream: DownstreamProcess;

  before(async () => {
    issuer = await FakeIssuer.start();
    downstream = await startDownstream({
      ISSUER: issuer.url,
      AUDIENCE: 'orders',
      JWKS_COOLDOWN_SECONDS: '0.5',
    });
  });
  after(async () => {
    await downstream?.stop();
    await issuer?.close();
  });

  const whoami = (token?: string): Promise<Response> =>
    fetch(
      `${downstream.url}/whoami`,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );

  test('a token for its audience is accepted; the claims reach the route', async () => {
    const answer = await whoami(
      await issuer.mint({ claims: { aud: 'orders', sub: 'e0a4d1c6-3f1b-4e0e-8b57-2f8c0f4f6a11' } }),
    );
    assert.equal(answer.status, 200);
    const body = (await answer.json()) as Record<string, unknown>;
    assert.equal(body.user_id, 'e0a4d1c6-3f1b-4e0e-8b57-2f8c0f4f6a11');
    assert.equal(body.email, 'ada@example.com');
  });

  test('no token, another audience, or a forged token: 401', async () => {
    assert.equal((await whoami()).status, 401);
    assert.equal((await whoami(await issuer.mint())).status, 401, 'aud is the issuer, not orders');
    assert.equal((await whoami(issuer.mintWithPublicKeyAsSecret('raw'))).status, 401);
    assert.equal((await fetch(`${downstream.url}/health`)).status, 200);
  });

  test('after a rotation the new key is fetched; with the issuer gone the cached keys still serve', async () => {
    const old = issuer.current;
    await sleep(600); // past the cooldown of the last fetch, as Latchkey's publication lead time guarantees
    issuer.current = await issuer.publishKey();
    assert.equal((await whoami(await issuer.mint({ claims: { aud: 'orders' } }))).status, 200);
    assert.equal((await whoami(await issuer.mint({ key: old, claims: { aud: 'orders' } }))).status, 200);
    await issuer.setAvailability('stopped');
    assert.equal((await whoami(await issuer.mint({ claims: { aud: 'orders' } }))).status, 200);
  });

  test('without ISSUER it refuses to start and says why', () => {
    const run = spawnSync(process.execPath, [downstreamScript], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /ISSUER is required/);
  });
});
