import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, readEmailedToken, uniqueEmail } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import { waitUntil } from '../support/wait.ts';

/** The value of one sample line (`name{labels} value`), or undefined. */
function readSample(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('Prometheus metrics at /metrics', () => {
  let service: TestService;
  let client: HttpClient;

  before(async () => {
    service = await startTestService('embedded', { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '1' });
    client = new HttpClient(service.baseUrl);
  });
  after(async () => {
    await service?.close();
  });

  async function scrape(): Promise<string> {
    const answer = await service.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type'] ?? ''), /^text\/plain/);
    return answer.body;
  }

  test('latency per route, login successes and failures, sent mail and the outbox', async () => {
    const email = uniqueEmail('metrics');
    const password = generatePassword();
    assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
    const token = await readEmailedToken(service.smtp, email, '/verify-email');
    assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);
    assert.equal((await client.post('/login', { json: { email, password } })).status, 200);
    assert.equal((await client.post('/login', { json: { email, password: `${password}x` } })).status, 401);

    const text = await waitUntil(
      'the sent email is counted',
      async () => {
        const scraped = await scrape();
        return (readSample(scraped, 'latchkey_email_deliveries_total{outcome="sent"}') ?? 0) >= 1 && scraped;
      },
      { timeoutMilliseconds: 5_000 },
    );
    assert.match(text, /^http_request_duration_seconds_bucket\{[^}]*route="\/login"[^}]*\} \d+$/m);
    assert.match(
      text,
      /^http_request_duration_seconds_count\{method="POST",route="\/register",status_code="200"\} 1$/m,
    );
    assert.equal(readSample(text, 'latchkey_logins_total{outcome="success"}'), 1);
    assert.equal(readSample(text, 'latchkey_logins_total{outcome="failure"}'), 1);
    assert.equal(readSample(text, 'latchkey_email_deliveries_total{outcome="abandoned"}'), 0);
    assert.equal(readSample(text, 'latchkey_outbox_depth'), 0);
    assert.equal(readSample(text, 'latchkey_outbox_oldest_age_seconds'), 0);
    assert.match(text, /^process_resident_memory_bytes \d+/m, 'process metrics are there');
  });

  test('the outbox gauges show mail waiting, and how long the oldest has waited', async () => {
    await service.query(
      `insert into email_outbox (message_id, recipient, template, status, created_at, next_attempt_at)
       values ('<waiting@latchkey.test>', 'someone@example.com', 'verify_email', 'queued',
               now() - interval '90 seconds', now() + interval '1 hour')`,
    );
    try {
      const text = await scrape();
      assert.equal(readSample(text, 'latchkey_outbox_depth'), 1);
      const age = readSample(text, 'latchkey_outbox_oldest_age_seconds') ?? 0;
      assert.ok(age >= 89 && age < 150, `oldest age ${age}`);
    } finally {
      await service.query(`delete from email_outbox where message_id = '<waiting@latchkey.test>'`);
    }
  });

  test('rate-limit refusals are counted by route; /metrics itself is never limited', async () => {
    let refused = false;
    for (let attempt = 0; attempt < 200 && !refused; attempt++) {
      const answer = await client.post('/request-password-reset', {
        json: { email: uniqueEmail('nobody') },
        headers: { 'x-forwarded-for': '198.51.100.20' },
      });
      refused = answer.status === 429;
    }
    assert.ok(refused, 'no 429 within 200 requests');
    const text = await scrape();
    assert.equal(readSample(text, 'latchkey_rate_limit_refusals_total{route="/request-password-reset"}'), 1);
    for (let scrapes = 0; scrapes < 100; scrapes++) assert.equal((await client.get('/metrics')).status, 200);
  });

  test('/metrics is not part of the API description', async () => {
    const description = await service.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(description.statusCode, 200);
    assert.equal(Object.keys(description.json().paths).includes('/metrics'), false);
  });
});

describe('several apps in one process (tests, or a restart of the app)', () => {
  test('each app has metrics of its own: no clash in a global registry', async () => {
    const backend = availableBackends().at(-1) ?? 'embedded';
    const first = await startTestService(backend);
    try {
      const second = await startTestService(backend);
      try {
        for (const service of [first, second]) {
          const answer = await service.app.inject({ method: 'GET', url: '/metrics' });
          assert.equal(answer.statusCode, 200);
          assert.match(answer.body, /^latchkey_outbox_depth \d+$/m);
        }
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});

describe('METRICS_ENABLED=false', () => {
  test('no /metrics', async () => {
    // The quickest backend to start: a fresh embedded database takes seconds.
    const service = await startTestService(availableBackends().at(-1) ?? 'embedded', {
      METRICS_ENABLED: 'false',
    });
    try {
      assert.equal((await service.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await service.close();
    }
  });
});
