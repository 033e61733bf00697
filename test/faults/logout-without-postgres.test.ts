import assert from 'node:assert/strict';
import { HttpClient } from '../support/http-client.ts';
import { registerVerifiedAccount } from '../support/journeys.ts';
import { testOnThrowawayStack } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

testOnThrowawayStack(
  'PostgreSQL down, sessions in Redis: a plain session still answers /me and logs out (a throwaway cluster)',
  { name: 'logout-without-postgres', instances: 1 },
  async (t, { postgres, smtp, instances }) => {
    const [instance] = instances;
    assert.ok(instance);
    const client = new HttpClient(instance.baseUrl);
    const account = await registerVerifiedAccount(instance.baseUrl, smtp);
    const logIn = async (json: object): Promise<{ token: string; refreshToken?: string }> => {
      const answer = await client.post('/login', { json: { ...account, ...json } });
      assert.equal(answer.status, 200, answer.text);
      return { token: answer.json.access_token as string, refreshToken: answer.json.refresh_token as string };
    };
    const plain = await logIn({});
    const withFamily = await logIn({ refresh_token: true });
    const refreshed = await client.post('/token', {
      json: { grant_type: 'refresh_token', refresh_token: withFamily.refreshToken },
    });
    assert.equal(refreshed.status, 200, refreshed.text);
    const refreshedToken = refreshed.json.access_token as string;

    await postgres.stop('fast');
    await waitUntil(
      'readiness sees PostgreSQL gone',
      async () => (await client.get('/health/ready')).status === 503,
      { timeoutMilliseconds: 10_000, intervalMilliseconds: 100 },
    );

    await t.test(
      'a plain session: /me 200, /logout 200, then it is gone; the missing audit row is a log line',
      async () => {
        const me = await client.get('/me', { bearer: plain.token });
        assert.equal(me.status, 200, me.text);
        assert.equal(me.json.email, account.email);
        const logout = await client.post('/logout', { bearer: plain.token });
        assert.equal(logout.status, 200, logout.text);
        assert.equal((await client.get('/me', { bearer: plain.token })).status, 401);
        await waitUntil(
          'a log line stands in for the logout audit event',
          () => /"event":"logout"[^\n]*"outcome":"audit_unavailable"/.test(instance.output()),
          { timeoutMilliseconds: 5_000, intervalMilliseconds: 50 },
        );
      },
    );

    await t.test(
      'a session with a refresh family: /me 200, /logout 503 with Retry-After (its family is in PostgreSQL), never 500',
      async () => {
        for (const token of [withFamily.token, refreshedToken]) {
          assert.equal((await client.get('/me', { bearer: token })).status, 200);
          const logout = await client.post('/logout', { bearer: token });
          assert.equal(logout.status, 503, logout.text);
          assert.equal(logout.json.code, 'service_unavailable');
          assert.ok(logout.headers.get('retry-after'));
          // Nothing was ended half-way: the session still works, so the client can log out again later.
          assert.equal((await client.get('/me', { bearer: token })).status, 200);
        }
      },
    );

    await t.test(
      'PostgreSQL back: the session with a family logs out, and its refresh token is refused',
      async () => {
        await postgres.start();
        await waitUntil(
          'the instance serves again',
          async () => (await client.get('/health/ready')).status === 200,
          { timeoutMilliseconds: 25_000, intervalMilliseconds: 100 },
        );
        assert.equal((await client.post('/logout', { bearer: refreshedToken })).status, 200);
        assert.equal((await client.get('/me', { bearer: withFamily.token })).status, 401);
        const refused = await client.post('/token', {
          json: { grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token as string },
        });
        assert.equal(refused.status, 400);
        assert.equal(refused.json.code, 'invalid_grant');
        assert.equal(instance.hasExited(), false);
      },
    );
  },
);
