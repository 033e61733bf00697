import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { HttpClient } from '../support/http-client.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import type { CapturedEmail } from '../support/smtp-capture.ts';

const password = 'correct horse battery staple';
let counter = 0;
function freshAddress(label: string): string {
  counter += 1;
  return `${label}-${counter}-${Date.now().toString(36)}@example.com`;
}
function isTo(address: string, subject: RegExp): (email: CapturedEmail) => boolean {
  return (email) => email.to.toLowerCase() === address.toLowerCase() && subject.test(email.subject);
}
function tokenIn(email: CapturedEmail): string {
  const token = new URL(email.links[0] ?? 'http://x/').searchParams.get('token');
  assert.ok(token);
  return token;
}
/** The parts of an answer an attacker can observe, minus what differs on every request anyway. */
function observable(answer: { status: number; text: string; headers: Headers }): unknown {
  const headers = [...answer.headers.keys()]
    .filter((name) => !['date', 'x-ratelimit-reset'].includes(name))
    .sort();
  return {
    status: answer.status,
    text: answer.text,
    headers,
    retryAfter: answer.headers.get('retry-after') !== null,
  };
}

/** Tight budgets so each rule shows within a few requests; everything else stays generous. */
const tightBudgets = [
  'ip.resend_verification=3/60',
  'ip.register=1000/60',
  'ip.login=1000/60',
  'ip.verify_email=1000/60',
  'ip.request_password_reset=1000/60',
  'ip.reset_password=1000/60',
  'account.login.minute=3/60',
  'recipient.email.hour=2/3600',
  'token.reset_password=2/3600',
].join(',');

for (const backend of availableBackends()) {
  describe(`abuse resistance (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      service = await startTestService(backend, {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMITS: tightBudgets,
        CORS_ORIGINS: 'https://app.example.com',
      });
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    async function registerVerified(email: string): Promise<void> {
      assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
      const mail = await service.smtp.waitForEmail(isTo(email, /verify/i));
      assert.equal((await client.post('/verify-email', { json: { token: tokenIn(mail) } })).status, 200);
    }

    test('per client IP: a spent route budget is a 429 with Retry-After, and a spoofed X-Forwarded-For buys nothing', async () => {
      const answers = [];
      for (let i = 0; i < 4; i++) {
        answers.push(
          await client.post('/resend-verification', {
            json: { email: freshAddress('ip') },
            headers: { 'x-forwarded-for': `203.0.113.${i}` },
          }),
        );
      }
      assert.deepEqual(
        answers.map((answer) => answer.status),
        [202, 202, 202, 429],
      );
      const limited = answers[3];
      assert.ok(limited);
      assert.equal(limited.json.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    });

    test('per account: failures on one address are limited the same whether or not it has an account', async () => {
      const known = freshAddress('known');
      await registerVerified(known);
      const unknown = freshAddress('unknown');
      const knownAnswers = [];
      const unknownAnswers = [];
      for (let i = 0; i < 4; i++) {
        knownAnswers.push(
          await client.post('/login', { json: { email: known, password: `wrong password ${i}` } }),
        );
        unknownAnswers.push(
          await client.post('/login', { json: { email: unknown, password: `wrong password ${i}` } }),
        );
      }
      assert.deepEqual(
        knownAnswers.map((answer) => answer.status),
        [401, 401, 401, 429],
      );
      assert.deepEqual(knownAnswers.map(observable), unknownAnswers.map(observable));
      const rightPassword = await client.post('/login', { json: { email: known, password } });
      assert.equal(
        rightPassword.status,
        429,
        'a locked account refuses even the right password until the window ends',
      );
    });

    test('per account: a success between failures does not buy a fresh budget', async () => {
      const email = freshAddress('mixed');
      await registerVerified(email);
      const statuses = [];
      for (const attempt of [
        'wrong password one',
        'wrong password two',
        password,
        'wrong password three',
        password,
      ]) {
        statuses.push((await client.post('/login', { json: { email, password: attempt } })).status);
      }
      // Budget 3: two failures, a success (its own point given back), a third failure: the budget is spent.
      assert.deepEqual(statuses, [401, 401, 200, 401, 429]);
    });

    test('per recipient: extra emails are dropped silently while the answer stays the same', async () => {
      const email = freshAddress('inbox');
      await registerVerified(email);
      const before = service.smtp.messages.filter(isTo(email, /reset/i)).length;
      const answers = [];
      for (let i = 0; i < 4; i++)
        answers.push(await client.post('/request-password-reset', { json: { email } }));
      assert.ok(answers.every((answer) => answer.status === 202));
      assert.equal(new Set(answers.map((answer) => answer.text)).size, 1);
      await service.smtp.waitForEmail(
        (m) =>
          service.smtp.messages.filter(isTo(email, /reset/i)).length >= before + 1 &&
          isTo(email, /reset/i)(m),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // The registration's verification email spent one point of the recipient budget (2 per hour).
      assert.equal(service.smtp.messages.filter(isTo(email, /reset/i)).length - before, 1);
    });

    test('per reset token: confirmation attempts are limited', async () => {
      const email = freshAddress('token');
      await client.post('/register', { json: { email, password } });
      const mail = await service.smtp.waitForEmail(isTo(email, /verify/i));
      assert.ok(mail);
      // A well-formed token that does not exist: attempts are counted per submitted token all the same.
      const token = 'A'.repeat(43);
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push(
          (await client.post('/reset-password', { json: { token, new_password: 'a new long password' } }))
            .status,
        );
      }
      assert.deepEqual(statuses, [400, 400, 429]);
    });

    test('CSRF: a cross-site request riding the session cookie is refused; bearer calls and same-origin posts pass', async () => {
      const email = freshAddress('csrf');
      await registerVerified(email);
      const browser = new HttpClient(service.baseUrl);
      const login = await browser.post('/login', { json: { email, password } });
      assert.equal(login.status, 200);
      const evil = await browser.post('/logout', { headers: { origin: 'https://evil.example' } });
      assert.equal(evil.status, 403);
      assert.equal(evil.json.code, 'csrf_refused');
      const crossSite = await browser.post('/logout', { headers: { 'sec-fetch-site': 'cross-site' } });
      assert.equal(crossSite.status, 403);
      assert.equal((await browser.get('/me')).status, 200, 'the refused requests changed nothing');
      assert.ok(
        service.logLines.some((line) => line.includes('csrf_refused')),
        'the refusal is logged',
      );
      const bearer = await client.post('/logout', {
        bearer: login.json.access_token,
        headers: { origin: 'https://evil.example' },
        cookies: false,
      });
      assert.equal(bearer.status, 200, 'bearer calls carry no ambient credential and are not affected');
      const again = await browser.post('/login', { json: { email, password } });
      assert.equal(again.status, 200);
      const sameOrigin = await browser.post('/logout', { headers: { origin: service.baseUrl } });
      assert.equal(sameOrigin.status, 200);
      const listed = await browser.post('/login', { json: { email, password } });
      assert.equal(listed.status, 200);
      const fromListedOrigin = await browser.post('/logout', {
        headers: { origin: 'https://app.example.com' },
      });
      assert.equal(fromListedOrigin.status, 200, 'a CORS_ORIGINS origin is trusted');
    });

    test('CORS: credentials only for listed origins', async () => {
      const preflight = (origin: string): Promise<Response> =>
        fetch(`${service.baseUrl}/login`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const listed = await preflight('https://app.example.com');
      assert.equal(listed.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.equal(listed.headers.get('access-control-allow-credentials'), 'true');
      const unlisted = await preflight('https://evil.example');
      assert.equal(unlisted.headers.get('access-control-allow-origin'), null);
    });
  });
}

describe('client IP behind a proxy', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService('embedded', {
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMITS: 'ip.resend_verification=2/60',
      TRUST_PROXY: '1',
    });
  });
  after(async () => {
    await service?.close();
  });

  test('with TRUST_PROXY set, X-Forwarded-For from the trusted proxy decides the client', async () => {
    const client = new HttpClient(service.baseUrl);
    const send = (ip: string) =>
      client.post('/resend-verification', {
        json: { email: freshAddress('proxy') },
        headers: { 'x-forwarded-for': ip },
      });
    assert.deepEqual(
      [
        (await send('198.51.100.1')).status,
        (await send('198.51.100.1')).status,
        (await send('198.51.100.1')).status,
      ],
      [202, 202, 429],
    );
    assert.equal(
      (await send('198.51.100.2')).status,
      202,
      'another client behind the proxy has its own budget',
    );
  });
});

describe('configuration refusals', () => {
  test('CORS_ORIGINS=* with credentials refuses to start', () => {
    assert.throws(
      () =>
        loadConfig({ CORS_ORIGINS: '*', DATA_DIR: '/tmp/latchkey-config-test', SECRET_KEY: 'x'.repeat(40) }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /CORS_ORIGINS=\* cannot be combined with credentials/);
        return true;
      },
    );
    assert.doesNotThrow(() =>
      loadConfig({
        CORS_ORIGINS: '*',
        CORS_ALLOW_CREDENTIALS: 'false',
        DATA_DIR: '/tmp/latchkey-config-test',
        SECRET_KEY: 'x'.repeat(40),
      }),
    );
  });

  test('TRUST_PROXY=true (believe anyone) and unknown budget names refuse to start', () => {
    assert.throws(
      () =>
        loadConfig({
          TRUST_PROXY: 'true',
          SECRET_KEY: 'x'.repeat(40),
          DATA_DIR: '/tmp/latchkey-config-test',
        }),
      /TRUST_PROXY=true/,
    );
    assert.throws(
      () =>
        loadConfig({
          RATE_LIMITS: 'login=5/60',
          SECRET_KEY: 'x'.repeat(40),
          DATA_DIR: '/tmp/latchkey-config-test',
        }),
      /RATE_LIMITS entry/,
    );
  });
});
