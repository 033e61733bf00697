import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, uniqueEmail } from '../support/journeys.ts';
import { testOnThrowawayStack } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

const recoveryMilliseconds = 15_000;

interface Outcome {
  readonly email: string;
  readonly status: number | 'network error';
  readonly milliseconds: number;
}

testOnThrowawayStack(
  'PostgreSQL restarts under load (a throwaway cluster)',
  { name: 'postgres-restart', instances: 2 },
  async (t, { postgres, smtp, instances }) => {
    /** Registrations from four clients spread over the instances, until stop() is called. */
    function startLoad(): { stop(): Promise<Outcome[]> } {
      const outcomes: Outcome[] = [];
      let running = true;
      async function lane(laneIndex: number): Promise<void> {
        for (let index = 0; running; index++) {
          const target = instances[(laneIndex + index) % instances.length]!;
          const email = uniqueEmail(`load${laneIndex}`);
          const startedAt = Date.now();
          let status: Outcome['status'];
          try {
            const answer = await new HttpClient(target.baseUrl).post('/register', {
              json: { email, password: generatePassword() },
            });
            status = answer.status;
          } catch {
            status = 'network error';
          }
          outcomes.push({ email, status, milliseconds: Date.now() - startedAt });
          // Keep the rate modest: the point is requests in flight at the moment of the restart.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      const lanes = [0, 1, 2, 3].map(lane);
      return {
        async stop() {
          running = false;
          await Promise.all(lanes);
          return outcomes;
        },
      };
    }

    async function restartAndMeasure(mode: 'fast' | 'immediate'): Promise<{
      outcomes: Outcome[];
      recoveryMilliseconds: number;
    }> {
      const load = startLoad();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await postgres.stop(mode);
      // While it is down: the service answers 503 (and fast), readiness says so, liveness does not.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const running of instances) {
        const client = new HttpClient(running.baseUrl);
        const ready = await client.get('/health/ready');
        assert.equal(ready.status, 503);
        assert.equal(ready.json.checks.database, 'unavailable');
        assert.equal((await client.get('/health/live')).status, 200);
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));

      await postgres.start();
      const acceptingAt = Date.now();
      // Full service on every instance: ready, and a registration answered 200.
      await Promise.all(
        instances.map((running) =>
          waitUntil(
            `${running.name} serves again`,
            async () => {
              const client = new HttpClient(running.baseUrl);
              if ((await client.get('/health/ready')).status !== 200) return false;
              const answer = await client.post('/register', {
                json: { email: uniqueEmail('probe'), password: generatePassword() },
              });
              return answer.status === 200;
            },
            { timeoutMilliseconds: recoveryMilliseconds + 10_000, intervalMilliseconds: 100 },
          ),
        ),
      );
      const recovered = Date.now() - acceptingAt;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return { outcomes: await load.stop(), recoveryMilliseconds: recovered };
    }

    async function assertEveryAcceptedRegistrationKept(outcomes: Outcome[]): Promise<void> {
      const statuses = new Set(outcomes.map((outcome) => outcome.status));
      for (const status of statuses) {
        assert.ok(status === 200 || status === 503, `a registration answered ${status}`);
      }
      assert.ok(statuses.has(503), 'no request saw the outage');
      const accepted = outcomes.filter((outcome) => outcome.status === 200).map((outcome) => outcome.email);
      const stored = new Set(
        (await postgres.query<{ email: string }>('select email from users')).map((row) => row.email),
      );
      const lost = accepted.filter((email) => !stored.has(email));
      assert.deepEqual(lost, [], 'registrations answered 200 are missing from the database');
      // The email each of them was promised arrives too (a 503 may or may not have one: no promise was made).
      await waitUntil(
        'every accepted registration got its verification email',
        () => {
          const recipients = new Set(smtp.messages.map((email) => email.to));
          return accepted.every((email) => recipients.has(email));
        },
        { timeoutMilliseconds: 30_000, intervalMilliseconds: 200 },
      );
      for (const running of instances) assert.equal(running.hasExited(), false, `${running.name} died`);
      const slowest = Math.max(...outcomes.map((outcome) => outcome.milliseconds));
      assert.ok(slowest < 10_000, `a request took ${slowest} ms`);
    }

    /** The restart in `mode` under load, and every guarantee that must hold across it. */
    async function assertRestartSurvived(mode: 'fast' | 'immediate', t: TestContext): Promise<void> {
      const { outcomes, recoveryMilliseconds: recovered } = await restartAndMeasure(mode);
      t.diagnostic(
        `${outcomes.length} registrations, ${outcomes.filter((o) => o.status === 503).length} answered 503; full service ${recovered} ms after PostgreSQL accepted connections`,
      );
      assert.ok(recovered <= recoveryMilliseconds, `full service after ${recovered} ms`);
      await assertEveryAcceptedRegistrationKept(outcomes);
    }

    await t.test(
      'a restart (fast shutdown, sessions terminated): no crash, 503 meanwhile, full service within 15 s, nothing answered 200 lost',
      (t) => assertRestartSurvived('fast', t),
    );

    await t.test('a crash (immediate shutdown, recovery at start): the same', (t) =>
      assertRestartSurvived('immediate', t),
    );

    await t.test('the outage was logged as lost connections and 503s, never as an unhandled error', () => {
      for (const running of instances) {
        const records = running.logRecords();
        assert.deepEqual(
          records.filter((record) => record.msg === 'unhandled error'),
          [],
          `${running.name} logged an unhandled error`,
        );
        assert.ok(records.some((record) => record.msg === 'dependency unavailable'));
      }
    });
  },
);
