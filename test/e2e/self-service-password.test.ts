import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { composeApiProcess, type ApiProcess } from '../../src/composition/api-process.ts';
import { createLogger } from '../../src/logger.ts';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import type { CapturedEmail } from '../support/smtp-capture.ts';

const password = 'correct horse battery staple';
const newPassword = 'a brand new and long passphrase';
// Roomy per-IP and per-recipient budgets (every request comes from one address); the account's login budget
// keeps its defaults, which the lockout test checks.
const budgets = [
  'ip.register=1000/60',
  'ip.verify_email=1000/60',
  'ip.login=1000/60',
  'ip.request_password_reset=1000/60',
  'ip.reset_password=1000/60',
  'recipient.email.hour=1000/3600',
  'recipient.email.day=1000/86400',
].join(',');

const roomyAccountBudgets = [
  'account.login.minute=1000/60',
  'account.login.hour=1000/3600',
  'account.login.day=1000/86400',
].join(',');

async function registerVerified(service: TestService, email: string): Promise<void> {
  const client = new HttpClient(service.baseUrl);
  assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
  const mail = await service.smtp.waitForEmail(isTo(email, /verify/i));
  const token = linkIn(mail, '/verify-email').searchParams.get('token');
  assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);
}

async function logIn(service: TestService, email: string, withPassword = password): Promise<string> {
  const answer = await new HttpClient(service.baseUrl).post('/login', {
    json: { email, password: withPassword },
  });
  assert.equal(answer.status, 200, answer.text);
  return answer.json.access_token as string;
}

async function me(service: TestService, token: string): Promise<number> {
  return (await new HttpClient(service.baseUrl).get('/me', { bearer: token })).status;
}

let counter = 0;
function freshAddress(label: string): string {
  counter += 1;
  return `${label}-${counter}-${Date.now().toString(36)}@example.com`;
}

function linkIn(email: CapturedEmail, path: string): URL {
  const link = email.links.find((candidate) => new URL(candidate).pathname === path);
  assert.ok(link, `the email has a ${path} link`);
  return new URL(link);
}

function isTo(address: string, subject: RegExp): (email: CapturedEmail) => boolean {
  return (email) => email.to.toLowerCase() === address.toLowerCase() && subject.test(email.subject);
}

for (const backend of availableBackends()) {
  describe(`change password (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      service = await startTestService(backend, { RATE_LIMIT_ENABLED: 'true', RATE_LIMITS: budgets });
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    test('a change ends every other session at once, keeps the caller, voids reset links and emails the owner', async () => {
      const email = freshAddress('change');
      await registerVerified(service, email);
      const caller = await logIn(service, email);
      const others = [await logIn(service, email), await logIn(service, email)];
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: { email, password } })).status, 200);
      assert.equal((await client.post('/request-password-reset', { json: { email } })).status, 202);
      const resetToken = linkIn(
        await service.smtp.waitForEmail(isTo(email, /reset/i)),
        '/reset-password',
      ).searchParams.get('token');
      const mailBefore = service.smtp.messages.length;

      const answer = await client.post('/me/password', {
        bearer: caller,
        cookies: false,
        json: { current_password: password, new_password: newPassword },
      });

      assert.equal(answer.status, 200, answer.text);
      assert.equal(typeof answer.json.message, 'string');
      assert.equal(await me(service, caller), 200);
      for (const other of others) assert.equal(await me(service, other), 401);
      assert.equal((await browser.get('/me')).status, 401, 'the cookie session ended too');
      assert.equal((await client.post('/login', { json: { email, password } })).status, 401);
      await logIn(service, email, newPassword);
      const reset = await client.post('/reset-password', {
        json: { token: resetToken, new_password: 'the reset link is void now' },
      });
      assert.equal(reset.status, 400);
      const notice = await service.smtp.waitForEmail(
        (mail) => service.smtp.messages.indexOf(mail) >= mailBefore && isTo(email, /password/i)(mail),
      );
      assert.match(notice.subject, /changed/i);
      linkIn(notice, '/reset-password');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const notices = service.smtp.messages.slice(mailBefore).filter((mail) => isTo(email, /changed/i)(mail));
      assert.equal(notices.length, 1, 'exactly one notice');
    });

    test('a wrong current password is 403 and changes nothing; the 6th wrong try in a minute is 429, as is a login', async () => {
      const email = freshAddress('wrong');
      await registerVerified(service, email);
      const caller = await logIn(service, email);
      const other = await logIn(service, email);

      for (let attempt = 1; attempt <= 5; attempt++) {
        const wrong = await client.post('/me/password', {
          bearer: caller,
          json: { current_password: 'not the current password', new_password: newPassword },
        });
        assert.equal(wrong.status, 403);
        assert.equal(wrong.json.code, 'invalid_current_password');
      }
      const sixth = await client.post('/me/password', {
        bearer: caller,
        json: { current_password: password, new_password: newPassword },
      });

      assert.equal(sixth.status, 429);
      assert.equal(sixth.json.code, 'rate_limited');
      assert.ok(Number(sixth.headers.get('retry-after')) > 0);
      assert.equal((await client.post('/login', { json: { email, password } })).status, 429);
      assert.equal(await me(service, other), 200, 'no session ended');
    });

    test('the new password follows the register rules (422, nothing changes); no session is 401', async () => {
      const email = freshAddress('rules');
      await registerVerified(service, email);
      const caller = await logIn(service, email);
      const cases: [string, string][] = [
        ['short', 'password_too_short'],
        [`${email.split('@')[0]} and more`, 'password_contains_email'],
      ];
      for (const [candidate, code] of cases) {
        const answer = await client.post('/me/password', {
          bearer: caller,
          json: { current_password: password, new_password: candidate },
        });
        assert.equal(answer.status, 422);
        assert.equal(answer.json.code, code);
      }
      const missing = await client.post('/me/password', {
        bearer: caller,
        json: { current_password: password },
      });
      assert.equal(missing.status, 422);
      assert.equal(missing.json.code, 'invalid_request');

      const anonymous = await client.post('/me/password', {
        cookies: false,
        json: { current_password: password, new_password: newPassword },
      });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.json.code, 'not_authenticated');
      await logIn(service, email);
    });

    test('a cross-site post riding the cookie is refused (403 csrf_refused); a same-site form post changes it', async () => {
      const email = freshAddress('csrf');
      await registerVerified(service, email);
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: { email, password } })).status, 200);

      const evil = await browser.post('/me/password', {
        headers: { origin: 'https://evil.example' },
        form: { current_password: password, new_password: newPassword },
      });
      assert.equal(evil.status, 403);
      assert.equal(evil.json.code, 'csrf_refused');
      await logIn(service, email);

      const sameSite = await browser.post('/me/password', {
        headers: { origin: service.baseUrl },
        form: { current_password: password, new_password: newPassword },
      });
      assert.equal(sameSite.status, 200);
      assert.match(sameSite.headers.get('content-type') ?? '', /text\/html/);
      assert.equal((await browser.get('/me')).status, 200);
      await logIn(service, email, newPassword);
    });

    if (backend === 'postgres+redis') {
      test('a session on another instance is refused there on its very next request', async () => {
        const email = freshAddress('instances');
        await registerVerified(service, email);
        const other = await startInstance(service);
        try {
          const login = await other.app.inject({
            method: 'POST',
            url: '/login',
            payload: { email, password },
          });
          assert.equal(login.statusCode, 200);
          const otherToken = (login.json() as { access_token: string }).access_token;
          const caller = await logIn(service, email);
          const meThere = (): Promise<number> =>
            other.app
              .inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${otherToken}` } })
              .then((answer) => answer.statusCode);
          assert.equal(await meThere(), 200);

          const change = await client.post('/me/password', {
            bearer: caller,
            json: { current_password: password, new_password: newPassword },
          });

          assert.equal(change.status, 200);
          assert.equal(await meThere(), 401);
        } finally {
          await other.close();
        }
      });
    }
  });
}

for (const backend of availableBackends()) {
  describe(`change password racing logins (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      // 50 parallel logins spend the account's budget before any of them succeeds and gives its point back:
      // here the account budget is roomy, so the logins really race the change.
      service = await startTestService(backend, {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMITS: `${budgets},${roomyAccountBudgets}`,
      });
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    test('50 logins with the old password racing a change: every token they returned is 401 after it', async () => {
      const email = freshAddress('race');
      await registerVerified(service, email);
      const caller = await logIn(service, email);

      // Half of the logins start before the change, half while it hashes and commits.
      const startLogins = (): Promise<HttpAnswer>[] =>
        Array.from({ length: 25 }, () => client.post('/login', { json: { email, password } }));
      const earlier = startLogins();
      const change = client.post('/me/password', {
        bearer: caller,
        json: { current_password: password, new_password: newPassword },
      });
      const answers = await Promise.all([...earlier, ...startLogins()]);
      assert.equal((await change).status, 200);

      const tokens = answers
        .filter((answer) => answer.status === 200)
        .map((answer) => answer.json.access_token);
      assert.ok(tokens.length > 0, 'some logins succeeded before the change');
      const statuses = await Promise.all(tokens.map((token: string) => me(service, token)));
      assert.deepEqual(
        statuses,
        tokens.map(() => 401),
      );
      assert.ok(
        answers.every((answer) => [200, 401, 429].includes(answer.status)),
        answers.map((answer) => answer.status).join(','),
      );
      assert.equal(await me(service, caller), 200);
    });
  });
}

/** A second instance of the service on the same database, Redis and key prefix (requests by inject). */
async function startInstance(
  service: TestService,
): Promise<{ app: FastifyInstance; deps: ApiProcess; close(): Promise<void> }> {
  const logger = createLogger({ level: 'silent' });
  const deps = await composeApiProcess(service.config, logger, { secretKey: service.config.secretKey });
  const app = await buildApp(deps.http, { logger, trustProxy: service.config.http.trustProxy });
  return {
    app,
    deps,
    async close() {
      await app.close();
      await deps.close();
    },
  };
}
