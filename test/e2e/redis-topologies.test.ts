import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, readEmailedToken, uniqueEmail } from '../support/journeys.ts';
import { startTestService, type TestService } from '../support/service.ts';
import {
  latchkeyRedisEnvironment,
  startThrowawayRedisCluster,
  startThrowawayRedisSentinel,
  topologySuitesMissing,
} from '../support/throwaway-redis-topologies.ts';

const topologies = [
  { name: 'a Redis Cluster of 3 primaries', start: startThrowawayRedisCluster },
  { name: 'Redis Sentinel (primary, replica, 3 sentinels)', start: startThrowawayRedisSentinel },
];

const missing = topologySuitesMissing();

for (const topology of topologies) {
  describe(`the journey on PostgreSQL and ${topology.name}`, { skip: missing ?? false }, () => {
    let service: TestService;
    let closeTopology: (() => Promise<void>) | undefined;
    before(async () => {
      const started = await topology.start();
      closeTopology = () => started.close();
      service = await startTestService('postgres+redis', {
        ...latchkeyRedisEnvironment(started.topology),
        // Rate limits on, so that their budgets live on the topology too.
        RATE_LIMIT_ENABLED: 'true',
      });
    });
    after(async () => {
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
