import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabaseUrl, testRedisUrl, uniqueRunId } from '../support/backends.ts';
import { createThrowawayDatabase } from '../support/database.ts';
import { HttpClient } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount, runWithConcurrency } from '../support/journeys.ts';
import { buildLatchkeyEnv, startLatchkey, stopAll, type LatchkeyProcess } from '../support/process.ts';
import { deleteRedisKeys } from '../support/redis.ts';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.ts';

const backendsConfigured = testDatabaseUrl() !== undefined && testRedisUrl() !== undefined;

describe(
  'several instances behind one load balancer (real processes, PostgreSQL + Redis)',
  { skip: backendsConfigured ? false : 'needs TEST_DATABASE_URL and TEST_REDIS_URL' },
  () => {
    const cleanups: (() => Promise<void>)[] = [];
    let instances: LatchkeyProcess[] = [];
    let smtp: SmtpCapture;

    before(async () => {
      smtp = await startSmtpCapture();
      cleanups.push(() => smtp.stop());
      const database = await createThrowawayDatabase();
      cleanups.push(() => database.drop());
      const redisUrl = testRedisUrl()!;
      const redisKeyPrefix = `latchkey-test-${uniqueRunId()}:`;
      cleanups.push(() => deleteRedisKeys(redisUrl, redisKeyPrefix));
      const env = buildLatchkeyEnv({
        databaseUrl: database.url,
        redisUrl,
        redisKeyPrefix,
        smtpPort: smtp.port,
        secretKey: `instances-secret-${uniqueRunId()}-${uniqueRunId()}`,
        // Limits on, keyed on the address a proxy reports, so each rule spends a budget of its own.
        extra: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '1' },
      });
      // Started together, as a rollout would: the migrations run once, under their advisory lock.
      instances = await Promise.all(
        ['a', 'b', 'c'].map((name) => startLatchkey({ env, name: `instance-${name}` })),
      );
    });

    after(async () => {
      await stopAll(instances);
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    function instance(index: number): LatchkeyProcess {
      const found = instances[index % instances.length];
      assert.ok(found);
      return found;
    }

    test('a session created on one instance works on every other; a logout on one is refused on all others at once', async () => {
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
        assert.equal(me.status, 401, `${running.name} still accepts a session ended on ${instance(1).name}`);
        const other = await new HttpClient(running.baseUrl).get('/me', { bearer: survivor });
        assert.equal(other.status, 200, 'the account’s other session is untouched');
      }
    });

    test('a per-client rate limit is exact across instances: one budget, not one per instance', async () => {
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
    });
  },
);
