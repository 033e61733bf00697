import assert from 'node:assert/strict';
import { HttpClient } from '../support/http-client.ts';
import { testOnThrowawayStack } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

testOnThrowawayStack(
  'PostgreSQL down: a refused admin key is still 401/403, never a 5xx; the missing audit row is a log line (a throwaway cluster)',
  { name: 'admin-without-postgres', instances: 1, env: { RATE_LIMIT_ENABLED: 'true' } },
  async (t, { postgres, instances }) => {
    const [instance] = instances;
    assert.ok(instance);
    const client = new HttpClient(instance.baseUrl);
    assert.equal((await client.get('/admin/users')).status, 401, 'refused while PostgreSQL is up');

    await postgres.stop('fast');
    await waitUntil(
      'readiness sees PostgreSQL gone',
      async () => (await client.get('/health/ready')).status === 503,
      { timeoutMilliseconds: 10_000, intervalMilliseconds: 100 },
    );

    await t.test(
      'no key: 401 admin_key_required; a token that is no admin key: 403 admin_key_refused',
      async () => {
        const none = await client.get('/admin/users');
        assert.equal(none.status, 401, none.text);
        assert.equal(none.json.code, 'admin_key_required');
        const session = await client.get('/admin/users', { bearer: 'a-session-token-perhaps' });
        assert.equal(session.status, 403, session.text);
        assert.equal(session.json.code, 'admin_key_refused');
        await waitUntil(
          'a log line stands in for each refused key the trail could not hold',
          () => (instance.output().match(/the refused admin key could not be audited/g) ?? []).length >= 2,
          { timeoutMilliseconds: 5_000, intervalMilliseconds: 50 },
        );
      },
    );

    await t.test('PostgreSQL back: refusals are audited again', async () => {
      await postgres.start();
      await waitUntil(
        'the instance serves again',
        async () => (await client.get('/health/ready')).status === 200,
        { timeoutMilliseconds: 25_000, intervalMilliseconds: 100 },
      );
      const before = (instance.output().match(/the refused admin key could not be audited/g) ?? []).length;
      assert.equal((await client.get('/admin/users')).status, 401);
      assert.equal(
        (instance.output().match(/the refused admin key could not be audited/g) ?? []).length,
        before,
      );
    });
  },
);
