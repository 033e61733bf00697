import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAdminKey } from '../../src/flows/admin-keys.ts';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

/** Tight per-IP budgets for /jwt and refused admin keys; the routes a test account needs stay generous. */
const budgets = [
  'ip.register=1000/60',
  'ip.verify_email=1000/60',
  'ip.login=1000/60',
  'ip.jwt=4/60',
  'ip.admin=3/600',
  'recipient.email.hour=1000/3600',
  'recipient.email.day=1000/86400',
].join(',');

let addressCounter = 0;
function nextClientAddress(): string {
  addressCounter += 1;
  return `203.0.113.${addressCounter}`;
}

for (const backend of availableBackends()) {
  describe(`per-IP budgets of /jwt and /admin (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    let adminKey: string;
    before(async () => {
      service = await startTestService(backend, {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMITS: budgets,
        TRUST_PROXY: '1',
      });
      client = new HttpClient(service.baseUrl);
      adminKey = (await createAdminKey(service.deps.http.admin, 'budgets')).key;
    });
    after(async () => {
      await service?.close();
    });

    /** A 429 with a Retry-After within the window, one more count in the metric, a security log line. */
    async function assertThrottled(
      answer: HttpAnswer,
      expected: { windowSeconds: number; route: string; ip: string; refusalsBefore: number },
    ): Promise<void> {
      assert.equal(answer.status, 429);
      assert.equal(answer.json.code, 'rate_limited');
      const retryAfter = Number(answer.headers.get('retry-after'));
      assert.ok(
        retryAfter >= 1 && retryAfter <= expected.windowSeconds,
        `Retry-After ${retryAfter} is within the window`,
      );
      assert.equal(await rateLimitRefusals(expected.route), expected.refusalsBefore + 1);
      assert.ok(
        service.logLines.some(
          (line) =>
            line.includes('"event":"throttled"') &&
            line.includes(expected.ip) &&
            line.includes(expected.route),
        ),
        'a security log line names the throttled client and route',
      );
    }

    async function rateLimitRefusals(route: string): Promise<number> {
      const answer = await service.app.inject({ method: 'GET', url: '/metrics' });
      const line = answer.body
        .split('\n')
        .find((candidate) => candidate.startsWith(`latchkey_rate_limit_refusals_total{route="${route}"}`));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    }

    test('/jwt: a client over its budget gets 429 with Retry-After, counted and logged; another client still mints', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const session = await logIn(service.baseUrl, account);
      const ip = nextClientAddress();
      const mint = (from: string) =>
        client.post('/jwt', { bearer: session, headers: { 'x-forwarded-for': from } });
      const refusalsBefore = await rateLimitRefusals('/jwt');
      for (let minted = 0; minted < 4; minted++) assert.equal((await mint(ip)).status, 200);
      await assertThrottled(await mint(ip), { windowSeconds: 60, route: '/jwt', ip, refusalsBefore });
      const other = await mint(nextClientAddress());
      assert.equal(other.status, 200, 'the budget is per client IP');
    });

    test('/admin: refused keys are bounded per IP, then even the right key waits; accepted keys spend nothing', async () => {
      const guesser = nextClientAddress();
      const operator = nextClientAddress();
      const call = (bearer: string | undefined, from: string) =>
        client.request('GET', '/admin/users?limit=1', {
          ...(bearer === undefined ? {} : { bearer }),
          headers: { 'x-forwarded-for': from },
        });
      // Accepted calls give their point back: many more than the budget all succeed.
      for (let calls = 0; calls < 10; calls++) assert.equal((await call(adminKey, operator)).status, 200);

      assert.equal((await call(undefined, guesser)).status, 401);
      assert.equal((await call(`lk_admin_${'A'.repeat(43)}`, guesser)).status, 403);
      assert.equal((await call('not-a-key', guesser)).status, 403);
      const refusalsBefore = await rateLimitRefusals('/admin/users');
      await assertThrottled(await call(`lk_admin_${'B'.repeat(43)}`, guesser), {
        windowSeconds: 600,
        route: '/admin/users',
        ip: guesser,
        refusalsBefore,
      });
      // A right key from the spent address waits too, so a 200 cannot tell a guesser that a guess was right.
      assert.equal((await call(adminKey, guesser)).status, 429);
      for (let guesses = 0; guesses < 5; guesses++) {
        assert.equal((await call(`lk_admin_${'E'.repeat(43)}`, guesser)).status, 429);
      }
      // The trail holds one row per refusal within the budget and nothing for the throttled calls after it.
      const refusedRows = await service.query<{ event: string; outcome: string }>(
        'select event, outcome from audit_events where ip = $1 order by occurred_at, id',
        [guesser],
      );
      assert.deepEqual(
        refusedRows.map((row) => [row.event, row.outcome]),
        [
          ['admin_key_refused', 'failure:401:admin_key_required'],
          ['admin_key_refused', 'failure:403:admin_key_refused'],
          ['admin_key_refused', 'failure:403:admin_key_refused'],
        ],
      );
      // The operator's address is untouched.
      assert.equal((await call(adminKey, operator)).status, 200);
    });
  });
}
