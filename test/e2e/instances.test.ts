import assert from 'node:assert/strict';
import { uniqueRunId } from '../support/backends.ts';
import { HttpClient } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount, runWithConcurrency } from '../support/journeys.ts';
import type { LatchkeyProcess } from '../support/process.ts';
import { testOnSharedServers } from '../support/throwaway-stack.ts';

testOnSharedServers(
  'several instances behind one load balancer (real processes, PostgreSQL + Redis)',
  {
    name: 'instances',
    redis: true,
    // Started together, as a rollout would: the migrations run once, under their advisory lock.
    instances: 3,
    // Limits on, keyed on the address a proxy reports, so each rule spends a budget of its own.
    env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '1' },
  },
  async (t, { smtp, instances }) => {
    function instance(index: number): LatchkeyProcess {
      const found = instances[index % instances.length];
      assert.ok(found);
      return found;
    }

    await t.test(
      'a session created on one instance works on every other; a logout on one is refused on all others at once',
      async () => {
        // Registered on a, confirmed on b, logged in on c.
        const account = await registerVerifiedAccount(instance(0).baseUrl, smtp, {
          verifyThrough: instance(1).baseUrl,
        });
        const token = await logIn(instance(2).baseUrl, account);
        const survivor = await logIn(instance(0).baseUrl, account);

        for (const running of instances) {
          const me = await new HttpClient(running.baseUrl).get('/me', { bearer: token });
          assert.equal(me.status, 200, `${running.name}: ${me.text}`);
          assert.equal(me.json.email, account.email);
        }

        const logout = await new HttpClient(instance(1).baseUrl).post('/logout', { bearer: token });
        assert.equal(logout.status, 200);
        for (const running of instances) {
          const me = await new HttpClient(running.baseUrl).get('/me', { bearer: token });
          assert.equal(
            me.status,
            401,
            `${running.name} still accepts a session ended on ${instance(1).name}`,
          );
          const other = await new HttpClient(running.baseUrl).get('/me', { bearer: survivor });
          assert.equal(other.status, 200, 'the account’s other session is untouched');
        }
      },
    );

    await t.test(
      'a per-client rate limit is exact across instances: one budget, not one per instance',
      async () => {
        // The budget as one instance counts it, for one client address…
        const probe = new HttpClient(instance(0).baseUrl);
        let budget = 0;
        for (; budget <= 200; budget++) {
          const answer = await probe.post('/request-password-reset', {
            json: { email: `nobody-${uniqueRunId()}@example.com` },
            headers: { 'x-forwarded-for': '198.51.100.10' },
          });
          if (answer.status === 429) break;
          assert.equal(answer.status, 202, answer.text);
        }
        assert.ok(budget > 0 && budget < 200, `budget ${budget}`);

        // …is exactly what three instances together grant another address, however the requests are spread.
        const answers = await runWithConcurrency(3 * budget, 3 * budget, async (index) =>
          new HttpClient(instance(index).baseUrl).post('/request-password-reset', {
            json: { email: `nobody-${uniqueRunId()}@example.com` },
            headers: { 'x-forwarded-for': '198.51.100.11' },
          }),
        );
        const accepted = answers.filter((answer) => answer.status === 202).length;
        const refused = answers.filter((answer) => answer.status === 429);
        assert.equal(accepted, budget, `accepted ${accepted} of a budget of ${budget}`);
        assert.equal(refused.length, 2 * budget);
        for (const answer of refused) assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/);
      },
    );
  },
);
