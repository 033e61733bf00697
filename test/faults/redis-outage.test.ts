import assert from 'node:assert/strict';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import { generatePassword, logIn, registerVerifiedAccount, uniqueEmail } from '../support/journeys.ts';
import { testOnThrowawayStack } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

/** The longest a request may take while Redis is gone (the bound). */
const outageAnswerMilliseconds = 2_000;
const recoveryMilliseconds = 10_000;

interface TimedAnswer {
  readonly label: string;
  readonly answer: HttpAnswer;
  readonly milliseconds: number;
}

testOnThrowawayStack(
  'Redis down: fail closed and fast, recover alone (a throwaway redis-server)',
  {
    name: 'redis-outage',
    // Limits on: with Redis gone they cannot be checked, and must refuse rather than allow.
    env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '1' },
  },
  async (t, stack) => {
    const { redis, smtp } = stack;
    const service = await stack.startInstance('api');
    const client = new HttpClient(service.baseUrl);
    const account = await registerVerifiedAccount(service.baseUrl, smtp);
    let session = await logIn(service.baseUrl, account);
    let addressCounter = 0;

    /** Each request from an address of its own, so the limits never refuse for being spent. */
    function clientAddress(): Record<string, string> {
      addressCounter += 1;
      return { 'x-forwarded-for': `203.0.113.${addressCounter % 250}` };
    }

    async function timed(label: string, request: () => Promise<HttpAnswer>): Promise<TimedAnswer> {
      const startedAt = Date.now();
      const answer = await request();
      return { label, answer, milliseconds: Date.now() - startedAt };
    }

    /** One round of everything that needs Redis, and the two health checks. */
    async function probeRound(): Promise<TimedAnswer[]> {
      return Promise.all([
        timed('GET /me', () => client.get('/me', { bearer: session, cookies: false })),
        timed('POST /login', () =>
          client.post('/login', {
            json: { email: uniqueEmail('nobody'), password: generatePassword() },
            headers: clientAddress(),
          }),
        ),
        timed('POST /register', () =>
          client.post('/register', {
            json: { email: uniqueEmail('outage'), password: generatePassword() },
            headers: clientAddress(),
          }),
        ),
        timed('GET /health/ready', () => client.get('/health/ready')),
        timed('GET /health/live', () => client.get('/health/live')),
      ]);
    }

    function assertFailsClosed(round: TimedAnswer[]): void {
      for (const { label, answer, milliseconds } of round) {
        assert.ok(
          milliseconds <= outageAnswerMilliseconds,
          `${label} took ${milliseconds} ms with Redis down`,
        );
        if (label === 'GET /health/live') {
          assert.equal(answer.status, 200, 'liveness does not depend on Redis');
          continue;
        }
        assert.equal(answer.status, 503, `${label} answered ${answer.status}: ${answer.text}`);
        assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/, `${label} has no Retry-After`);
        if (label === 'GET /health/ready') assert.equal(answer.json.checks.redis, 'unavailable');
        else assert.equal(answer.json.code, 'service_unavailable');
      }
    }

    /** Polls until a fresh login works and its session is checked; returns how long that took. */
    async function measureRecovery(since: number): Promise<number> {
      const account = await waitUntil(
        'a fresh login and its session work again',
        async () => {
          const ready = await client.get('/health/ready');
          if (ready.status !== 200) return null;
          const email = uniqueEmail('recovered');
          const password = generatePassword();
          const registered = await client.post('/register', {
            json: { email, password },
            headers: clientAddress(),
          });
          return registered.status === 200 ? { email, password } : null;
        },
        { timeoutMilliseconds: recoveryMilliseconds + 5_000, intervalMilliseconds: 100 },
      );
      const recoveredAt = Date.now();
      // The rest of the journey must work at once, limits and sessions included.
      const verified = await registerVerifiedAccount(service.baseUrl, smtp);
      const token = await logIn(service.baseUrl, verified);
      assert.equal((await client.get('/me', { bearer: token, cookies: false })).status, 200);
      assert.ok(account);
      return recoveredAt - since;
    }

    await t.test(
      'Redis stopped: 503 with Retry-After within 2 s, never 200 or 500; ready 503, live 200; back within 10 s',
      async (t) => {
        assert.equal((await client.get('/me', { bearer: session, cookies: false })).status, 200);
        await redis.stop('SIGKILL');

        // Several rounds over a few seconds: right after the loss, and once reconnecting is under way.
        const deadline = Date.now() + 4_000;
        let rounds = 0;
        while (Date.now() < deadline) {
          assertFailsClosed(await probeRound());
          rounds += 1;
        }
        assert.ok(rounds >= 2);
        assert.equal(service.hasExited(), false, 'the process died with Redis');

        const restartedAt = Date.now();
        await redis.start();
        const recoveryTime = await measureRecovery(restartedAt);
        t.diagnostic(`recovered ${recoveryTime} ms after Redis returned`);
        assert.ok(recoveryTime <= recoveryMilliseconds, `recovered after ${recoveryTime} ms`);
        // The new Redis is empty: the old session is gone, and is refused (never a 5xx).
        assert.equal((await client.get('/me', { bearer: session, cookies: false })).status, 401);
      },
    );

    await t.test(
      'Redis hung (SIGSTOP: the port open, no answer): the same 503s within 2 s, never a hang',
      async (t) => {
        const account = await registerVerifiedAccount(service.baseUrl, smtp);
        session = await logIn(service.baseUrl, account);
        redis.freeze();
        try {
          for (let round = 0; round < 3; round++) assertFailsClosed(await probeRound());
          // A burst: requests queued behind each other in the Redis client must not wait for one another.
          const burst = await Promise.all(
            Array.from({ length: 60 }, () =>
              timed('GET /me', () => client.get('/me', { bearer: session, cookies: false })),
            ),
          );
          assertFailsClosed(burst);
          assert.equal(service.hasExited(), false);
        } finally {
          redis.thaw();
        }
        const thawedAt = Date.now();
        const recoveryTime = await measureRecovery(thawedAt);
        t.diagnostic(`recovered ${recoveryTime} ms after Redis was thawed`);
        assert.ok(recoveryTime <= recoveryMilliseconds, `recovered after ${recoveryTime} ms`);
        // Redis kept its data: the session lives on.
        assert.equal((await client.get('/me', { bearer: session, cookies: false })).status, 200);
      },
    );

    await t.test('the process logged the outage as warnings, not as unhandled errors', () => {
      const records = service.logRecords();
      assert.ok(records.some((record) => record.msg === 'dependency unavailable'));
      const unhandled = records.filter((record) => record.msg === 'unhandled error');
      assert.deepEqual(unhandled, []);
    });
  },
);
