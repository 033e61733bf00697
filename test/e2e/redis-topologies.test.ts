import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uniqueRunId } from '../support/backends.ts';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, readEmailedToken, uniqueEmail } from '../support/journeys.ts';
import { startTestService, type TestService } from '../support/service.ts';
import {
  latchkeyRedisEnvironment,
  startThrowawayRedisCluster,
  startThrowawayRedisSentinel,
  topologySuitesMissing,
} from '../support/throwaway-redis-topologies.ts';

// Passwords everywhere, as production has them: REDIS_PASSWORD on the data nodes, REDIS_SENTINEL_PASSWORD on the
// sentinels.
const topologies = [
  {
    name: 'a Redis Cluster of 3 primaries (with a password)',
    start: () => startThrowawayRedisCluster({ password: `cluster-${uniqueRunId()}` }),
  },
  {
    name: 'Redis Sentinel (primary, replica, 3 sentinels; passwords on both)',
    start: () =>
      startThrowawayRedisSentinel({
        password: `data-${uniqueRunId()}`,
        sentinelPassword: `sentinel-${uniqueRunId()}`,
      }),
  },
];

const missing = topologySuitesMissing();

for (const topology of topologies) {
  describe(`the journey on PostgreSQL and ${topology.name}`, { skip: missing ?? false }, () => {
    let service: TestService;
    /** A second instance: the same database, the same Redis and key prefix. */
    let otherInstance: TestService;
    let closeTopology: (() => Promise<void>) | undefined;
    before(async () => {
      const started = await topology.start();
      closeTopology = () => started.close();
      service = await startTestService('postgres+redis', {
        ...latchkeyRedisEnvironment(started.topology, started.password),
        // Rate limits on, so that their budgets live on the topology too.
        RATE_LIMIT_ENABLED: 'true',
      });
      otherInstance = await startTestService('postgres+redis', {
        ...latchkeyRedisEnvironment(started.topology, started.password),
        RATE_LIMIT_ENABLED: 'true',
        DATABASE_URL: service.config.database.url ?? '',
        REDIS_KEY_PREFIX: service.config.redis?.keyPrefix ?? '',
      });
    });
    after(async () => {
      await otherInstance?.close();
      await service?.close();
      await closeTopology?.();
    });

    test('register, verify through the emailed link, log in twice, who-am-I, list, log out, reset ends the rest', async () => {
      assert.notEqual(service.config.redis?.topology.kind, 'url', 'the service runs on the topology');
      const email = uniqueEmail('topology');
      const password = generatePassword();
      const client = new HttpClient(service.baseUrl);
      assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
      const token = await readEmailedToken(service.smtp, email, '/verify-email');
      assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);

      const first = await client.post('/login', { json: { email, password } });
      assert.equal(first.status, 200);
      const second = await client.post('/login', { json: { email, password } });
      assert.equal(second.status, 200);
      const firstBearer: string = first.json.access_token;
      const secondBearer: string = second.json.access_token;

      const me = await client.get('/me', { bearer: firstBearer, cookies: false });
      assert.equal(me.status, 200);
      assert.equal(me.json.email, email);
      const listed = await client.get('/me/sessions', { bearer: firstBearer, cookies: false });
      assert.equal(listed.status, 200);
      assert.equal(listed.json.length, 2, 'both sessions are listed through the user index');

      assert.equal((await client.post('/logout', { bearer: firstBearer, cookies: false })).status, 200);
      assert.equal((await client.get('/me', { bearer: firstBearer, cookies: false })).status, 401);
      assert.equal((await client.get('/me', { bearer: secondBearer, cookies: false })).status, 200);

      assert.equal((await client.post('/request-password-reset', { json: { email } })).status, 202);
      const resetToken = await readEmailedToken(service.smtp, email, '/reset-password');
      const reset = await client.post('/reset-password', {
        json: { token: resetToken, new_password: generatePassword() },
      });
      assert.equal(reset.status, 200);
      assert.equal(
        (await client.get('/me', { bearer: secondBearer, cookies: false })).status,
        401,
        'a reset ends every session of the account',
      );
      assert.equal((await client.post('/login', { json: { email, password } })).status, 401);
    });

    test('a logout, and ending every other session, on one instance are refused on the other at once', async () => {
      const email = uniqueEmail('instances');
      const password = generatePassword();
      const here = new HttpClient(service.baseUrl);
      const there = new HttpClient(otherInstance.baseUrl);
      assert.equal((await here.post('/register', { json: { email, password } })).status, 200);
      const token = await readEmailedToken(service.smtp, email, '/verify-email');
      assert.equal((await there.post('/verify-email', { json: { token } })).status, 200);
      const sessions: string[] = [];
      for (let index = 0; index < 4; index++) {
        const login = await (index % 2 === 0 ? here : there).post('/login', { json: { email, password } });
        assert.equal(login.status, 200);
        sessions.push(login.json.access_token);
      }
      const [loggedOut, keeper, ...others] = sessions;
      assert.ok(loggedOut !== undefined && keeper !== undefined);
      assert.equal((await there.get('/me', { bearer: loggedOut, cookies: false })).status, 200);

      assert.equal((await there.post('/logout', { bearer: loggedOut, cookies: false })).status, 200);
      assert.equal((await here.get('/me', { bearer: loggedOut, cookies: false })).status, 401);

      const ended = await here.request('DELETE', '/me/sessions', { bearer: keeper, cookies: false });
      assert.equal(ended.status, 204);
      for (const other of others) {
        assert.equal((await there.get('/me', { bearer: other, cookies: false })).status, 401);
      }
      assert.equal((await there.get('/me', { bearer: keeper, cookies: false })).status, 200);
    });

    test('the login budget is kept on the topology: the attempts past it are refused with 429', async () => {
      const email = uniqueEmail('budget');
      const client = new HttpClient(service.baseUrl);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 12; attempt++) {
        const answer = await client.post('/login', { json: { email, password: generatePassword() } });
        statuses.push(answer.status);
      }
      assert.ok(
        statuses.every((status) => status === 401 || status === 429),
        statuses.join(','),
      );
      assert.ok(statuses.includes(429), `no attempt was refused: ${statuses.join(',')}`);
    });
  });
}
