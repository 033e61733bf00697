import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount } from '../support/journeys.ts';
import { startTestService, type TestService } from '../support/service.ts';
import {
  latchkeyRedisEnvironment,
  sendCommand,
  sentinelSettings,
  startThrowawayRedisSentinel,
  topologySuitesMissing,
  type ThrowawayRedisSentinel,
} from '../support/throwaway-redis-topologies.ts';
import { waitUntil } from '../support/wait.ts';

/** No answer may take longer than this while there is no primary (the Redis deadline is 1 s; HTTP adds little). */
const answerBoundMilliseconds = 2_000;
/**
 * How much longer than the failover itself (kill -> the sentinels name the new primary) the 503s may last: the
 * client learns of the switch from the sentinels' +switch-master and reconnects (retry delays of 100 ms to 1 s).
 */
const reconnectAllowanceMilliseconds = 2_000;

interface Answer {
  readonly label: 'GET /me' | 'POST /login';
  readonly status: number;
  readonly startedAt: number;
  readonly milliseconds: number;
}

const missing = topologySuitesMissing();

describe('Sentinel failover under load: the primary killed', { skip: missing ?? false }, () => {
  let sentinel: ThrowawayRedisSentinel;
  let service: TestService;
  before(async () => {
    sentinel = await startThrowawayRedisSentinel();
    service = await startTestService('postgres+redis', latchkeyRedisEnvironment(sentinel.topology));
  });
  after(async () => {
    await service?.close();
    await sentinel?.close();
  });

  test('503 (never 500, never past 2 s) for at most the failover time, then full service; replicated sessions survive', async (t) => {
    const client = new HttpClient(service.baseUrl);
    const accounts = await Promise.all(
      Array.from({ length: 3 }, () => registerVerifiedAccount(service.baseUrl, service.smtp)),
    );
    const sessions: string[] = [];
    for (const account of accounts) {
      for (let index = 0; index < 4; index++) sessions.push(await logIn(service.baseUrl, account));
    }

    // Acknowledged sessions that reached the replica: the replica's offset has caught up with the primary's.
    const formerPrimary = await sentinel.primaryPort();
    const primaryOffset = replicationOffset(
      String(await sendCommand(formerPrimary, ['INFO', 'replication'])),
      'master_repl_offset',
    );
    await waitUntil(
      'the replica has every write the primary acknowledged',
      async () => {
        const info = String(await sendCommand(formerPrimary, ['INFO', 'replication']));
        const replica = /slave0:.*offset=(\d+)/.exec(info);
        return replica !== null && Number(replica[1]) >= primaryOffset;
      },
      { timeoutMilliseconds: 5_000 },
    );
    for (const session of sessions) {
      assert.equal((await client.get('/me', { bearer: session, cookies: false })).status, 200);
    }

    // A steady load: who-am-I with the sessions from before, and logins, until told to stop.
    const answers: Answer[] = [];
    let loading = true;
    async function load(label: Answer['label'], request: () => Promise<{ status: number }>): Promise<void> {
      while (loading) {
        const startedAt = Date.now();
        const { status } = await request();
        answers.push({ label, status, startedAt, milliseconds: Date.now() - startedAt });
        await delay(20);
      }
    }
    let next = 0;
    const loaders = [
      ...Array.from({ length: 3 }, () =>
        load('GET /me', () =>
          client.get('/me', { bearer: sessions[next++ % sessions.length] ?? '', cookies: false }),
        ),
      ),
      load('POST /login', () => client.post('/login', { json: accounts[next++ % accounts.length] })),
    ];

    await delay(1_000);
    const killedAt = Date.now();
    await sentinel.killPrimary();
    const newPrimary = await sentinel.waitForNewPrimary(formerPrimary, 30_000);
    const failoverMilliseconds = Date.now() - killedAt;
    // Full service: keep the load on until a good while after the switch.
    await waitUntil(
      'who-am-I and login answer 200 again',
      () => {
        const recent = answers.filter((answer) => answer.startedAt > killedAt && answer.status === 200);
        return (
          recent.some((answer) => answer.label === 'GET /me') &&
          recent.some((answer) => answer.label === 'POST /login')
        );
      },
      { timeoutMilliseconds: 20_000 },
    );
    await delay(2_000);
    loading = false;
    await Promise.all(loaders);

    const unexpected = answers.filter((answer) => answer.status !== 200 && answer.status !== 503);
    assert.deepEqual(unexpected, [], 'only 200 and 503 while the primary fails over');
    const slowest = Math.max(...answers.map((answer) => answer.milliseconds));
    assert.ok(slowest <= answerBoundMilliseconds, `an answer took ${slowest} ms`);
    const refused = answers.filter((answer) => answer.status === 503);
    assert.ok(refused.length > 0, 'the load met the failover (no 503 at all)');
    const lastRefusedAt = Math.max(...refused.map((answer) => answer.startedAt + answer.milliseconds));
    const outageMilliseconds = lastRefusedAt - killedAt;
    t.diagnostic(
      `down-after-milliseconds ${sentinelSettings.downAfterMilliseconds}: failover (kill -> new primary named) ` +
        `${failoverMilliseconds} ms; 503s for ${outageMilliseconds} ms after the kill; ` +
        `${refused.length} of ${answers.length} answers 503; slowest answer ${slowest} ms`,
    );
    assert.ok(
      outageMilliseconds <= failoverMilliseconds + reconnectAllowanceMilliseconds,
      `503s lasted ${outageMilliseconds} ms after the kill, the failover ${failoverMilliseconds} ms`,
    );
    const afterRecovery = answers.filter((answer) => answer.startedAt > lastRefusedAt);
    assert.ok(afterRecovery.length > 10, 'the load went on after the failover');
    assert.ok(afterRecovery.every((answer) => answer.status === 200));

    // Every session acknowledged (and replicated) before the kill still works on the new primary.
    assert.equal(((await sendCommand(newPrimary, ['ROLE'])) as unknown[])[0], 'master');
    for (const session of sessions) {
      const me = await client.get('/me', { bearer: session, cookies: false });
      assert.equal(me.status, 200, 'a session replicated before the kill survives the failover');
    }
    // And a new session is written to, and found on, the new primary.
    const fresh = await logIn(service.baseUrl, accounts[0] ?? { email: '', password: '' });
    assert.equal((await client.get('/me', { bearer: fresh, cookies: false })).status, 200);
    const ready = await client.get('/health/ready');
    assert.equal(ready.status, 200);
  });
});

function replicationOffset(info: string, field: string): number {
  const match = new RegExp(`${field}:(\\d+)`).exec(info);
  assert.ok(match, `INFO replication has ${field}`);
  return Number(match[1]);
}
