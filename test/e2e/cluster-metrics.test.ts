import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { testDatabaseUrl, testRedisUrl, uniqueRunId } from '../support/backends.ts';
import { createThrowawayDatabase } from '../support/database.ts';
import { runWithConcurrency } from '../support/journeys.ts';
import { buildLatchkeyEnv, startLatchkey, type LatchkeyProcess } from '../support/process.ts';
import { deleteRedisKeys } from '../support/redis.ts';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.ts';
import { waitUntil } from '../support/wait.ts';

const loginCount = 24;

/** One request on a connection of its own: node:cluster hands each new connection to the next worker. */
function postOnNewConnection(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', connection: 'close' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** The value of one sample line (`name{labels} value`), or undefined. */
function readSample(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const databaseUrl = testDatabaseUrl();
const redisUrl = testRedisUrl();

if (databaseUrl !== undefined && redisUrl !== undefined) {
  describe('WORKERS=2: one /metrics scrape counts every process (real processes)', () => {
    let database: { url: string; drop(): Promise<void> };
    let smtp: SmtpCapture;
    let service: LatchkeyProcess;
    const redisKeyPrefix = `latchkey-test-${uniqueRunId()}:`;
    before(async () => {
      database = await createThrowawayDatabase({ namePrefix: 'latchkey_cluster' });
      smtp = await startSmtpCapture();
      service = await startLatchkey({
        env: buildLatchkeyEnv({
          databaseUrl: database.url,
          redisUrl,
          redisKeyPrefix,
          smtpPort: smtp.port,
          secretKey: `cluster-secret-${uniqueRunId()}-${uniqueRunId()}`,
          extra: { WORKERS: '2' },
        }),
      });
    });
    after(async () => {
      await service?.stop();
      await smtp?.stop();
      await database?.drop();
      await deleteRedisKeys(redisUrl, redisKeyPrefix);
    });

    test(`${loginCount} failed logins spread over both workers are all in one scrape`, async () => {
      const statuses = await runWithConcurrency(loginCount, 4, (index) =>
        postOnNewConnection(`${service.baseUrl}/login`, {
          email: `nobody-${index}@example.com`,
          password: 'not the password at all',
        }),
      );
      assert.deepEqual(new Set(statuses), new Set([401]));

      const servingProcesses = new Set(
        service
          .logRecords()
          .filter((record) => record.event === 'login' && record.outcome === 'invalid_credentials')
          .map((record) => record.pid),
      );
      assert.equal(servingProcesses.size, 2, 'both workers answered logins');

      const scrape = async (): Promise<string> => {
        const answer = await fetch(`${service.baseUrl}/metrics`, { headers: { connection: 'close' } });
        assert.equal(answer.status, 200);
        return answer.text();
      };
      const text = await waitUntil(
        'the scrape counts every login',
        async () => {
          const scraped = await scrape();
          return readSample(scraped, 'latchkey_logins_total{outcome="failure"}') === loginCount && scraped;
        },
        { timeoutMilliseconds: 10_000, intervalMilliseconds: 200 },
      );
      assert.equal(
        readSample(
          text,
          'http_request_duration_seconds_count{method="POST",route="/login",status_code="401"}',
        ),
        loginCount,
      );
      // Twice more: whichever worker takes the scrape, the sum is the same.
      for (let scrapes = 0; scrapes < 2; scrapes += 1) {
        assert.equal(readSample(await scrape(), 'latchkey_logins_total{outcome="failure"}'), loginCount);
      }
    });
  });
}
