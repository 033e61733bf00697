import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { composeApiProcess } from '../../src/composition/api-process.ts';
import { createLogger } from '../../src/logger.ts';
import { hashToken } from '../../src/security/tokens.ts';
import type { paths } from '../support/api-types.ts';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

const password = 'correct horse battery staple';
// Every request comes from one address: roomy per-IP and per-recipient budgets.
const budgets = [
  'ip.register=1000/60',
  'ip.verify_email=1000/60',
  'ip.login=1000/60',
  'recipient.email.hour=1000/3600',
  'recipient.email.day=1000/86400',
].join(',');

let counter = 0;
function freshAddress(label: string): string {
  counter += 1;
  return `${label}-${counter}-${Date.now().toString(36)}@example.com`;
}

type ListedSession = paths['/me/sessions']['get']['responses'][200]['content']['application/json'][number];

for (const backend of availableBackends()) {
  describe(`sessions (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      service = await startTestService(backend, {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMITS: budgets,
        TRUST_PROXY: '1',
      });
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    async function registerVerified(email: string): Promise<void> {
      assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
      const mail = await service.smtp.waitForEmail(
        (message) => message.to === email && /verify/i.test(message.subject),
      );
      const link = mail.links.find((candidate) => new URL(candidate).pathname === '/verify-email') ?? '';
      const token = new URL(link).searchParams.get('token');
      assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);
    }

    async function logIn(email: string, headers: Record<string, string> = {}): Promise<string> {
      const answer = await client.post('/login', { json: { email, password }, headers, cookies: false });
      assert.equal(answer.status, 200, answer.text);
      return answer.json.access_token as string;
    }

    async function list(token: string): Promise<{ text: string; json: ListedSession[] }> {
      const answer: HttpAnswer = await client.get('/me/sessions', { bearer: token, cookies: false });
      assert.equal(answer.status, 200, answer.text);
      return { text: answer.text, json: answer.json as ListedSession[] };
    }

    async function me(token: string): Promise<number> {
      return (await client.get('/me', { bearer: token, cookies: false })).status;
    }

    test('the list shows each live session with its times, client address and user agent, and no token', async () => {
      const email = freshAddress('list');
      await registerVerified(email);
      const before = Date.now();
      const phone = await logIn(email, { 'x-forwarded-for': '198.51.100.7', 'user-agent': 'Phone/2.0' });
      const laptop = await logIn(email, { 'x-forwarded-for': '203.0.113.4', 'user-agent': 'x'.repeat(1000) });

      const answer = await list(laptop);

      assert.equal(answer.json.length, 2);
      const current = answer.json.find((session) => session.current);
      const other = answer.json.find((session) => !session.current);
      assert.ok(current && other);
      assert.equal(current.ip, '203.0.113.4');
      assert.equal(current.user_agent, 'x'.repeat(256));
      assert.equal(other.ip, '198.51.100.7');
      assert.equal(other.user_agent, 'Phone/2.0');
      for (const session of answer.json) {
        const created = Date.parse(session.created_at);
        assert.ok(created >= before - 1000 && created <= Date.now());
        assert.ok(Date.parse(session.last_seen_at) >= created);
        assert.equal(
          Date.parse(session.expires_at) - created,
          service.config.sessions.lifetimeMinutes * 60_000,
        );
      }
      for (const token of [phone, laptop]) {
        assert.ok(!answer.text.includes(token), 'no token in the answer');
        assert.ok(!answer.text.includes(hashToken(token)), 'no token hash in the answer');
      }
      assert.equal((await client.get('/me/sessions', { cookies: false })).status, 401);
    });

    test("ending a session by its id refuses it at once; its id, an unknown id and another account's all get the same 404", async () => {
      const email = freshAddress('end');
      const otherEmail = freshAddress('other');
      await registerVerified(email);
      await registerVerified(otherEmail);
      const caller = await logIn(email);
      const victim = await logIn(email);
      const stranger = await logIn(otherEmail);
      const victimId = (await list(caller)).json.find((session) => !session.current)?.id ?? '';
      const strangerId = (await list(stranger)).json[0]?.id ?? '';

      const ended = await client.request('DELETE', `/me/sessions/${victimId}`, {
        bearer: caller,
        cookies: false,
      });

      assert.equal(ended.status, 204);
      assert.equal(ended.text, '');
      assert.equal(await me(victim), 401);
      assert.equal(await me(caller), 200);
      const refusals = await Promise.all(
        [victimId, strangerId, 'f'.repeat(32)].map((id) =>
          client.request('DELETE', `/me/sessions/${id}`, { bearer: caller, cookies: false }),
        ),
      );
      for (const refusal of refusals) {
        assert.equal(refusal.status, 404);
        assert.deepEqual(refusal.json, refusals[0]?.json);
        assert.equal(refusal.json.code, 'session_not_found');
      }
      assert.equal(await me(stranger), 200, "another account's session is untouched");
    });

    test('ending every other session keeps the caller only', async () => {
      const email = freshAddress('others');
      await registerVerified(email);
      const caller = await logIn(email);
      const others = [await logIn(email), await logIn(email), await logIn(email)];

      const answer = await client.request('DELETE', '/me/sessions', { bearer: caller, cookies: false });

      assert.equal(answer.status, 204);
      for (const other of others) assert.equal(await me(other), 401);
      assert.equal(await me(caller), 200);
      assert.deepEqual(
        (await list(caller)).json.map((session) => session.current),
        [true],
      );
    });

    test('a cross-site DELETE riding the cookie is refused (403 csrf_refused) and ends nothing', async () => {
      const email = freshAddress('csrf');
      await registerVerified(email);
      const other = await logIn(email);
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: { email, password } })).status, 200);
      const otherId = (await list(other)).json.find((session) => session.current)?.id ?? '';

      for (const path of ['/me/sessions', `/me/sessions/${otherId}`]) {
        const refused = await browser.request('DELETE', path, {
          headers: { origin: 'https://evil.example' },
        });
        assert.equal(refused.status, 403);
        assert.equal(refused.json.code, 'csrf_refused');
      }
      assert.equal(await me(other), 200);

      const sameSite = await browser.request('DELETE', '/me/sessions', {
        headers: { origin: service.baseUrl },
      });
      assert.equal(sameSite.status, 204);
      assert.equal(await me(other), 401);
      assert.equal((await browser.get('/me')).status, 200);
    });

    if (backend === 'postgres+redis') {
      test('a session ended on one instance is refused on another on its very next request', async () => {
        const email = freshAddress('instances');
        await registerVerified(email);
        const logger = createLogger({ level: 'silent' });
        const deps = await composeApiProcess(service.config, logger, { secretKey: service.config.secretKey });
        const other = await buildApp(deps.http, { logger, trustProxy: service.config.http.trustProxy });
        try {
          const login = await other.inject({ method: 'POST', url: '/login', payload: { email, password } });
          const otherToken = (login.json() as { access_token: string }).access_token;
          const meThere = async (): Promise<number> =>
            (
              await other.inject({
                method: 'GET',
                url: '/me',
                headers: { authorization: `Bearer ${otherToken}` },
              })
            ).statusCode;
          assert.equal(await meThere(), 200);
          const caller = await logIn(email);
          const id = (await list(caller)).json.find((session) => !session.current)?.id ?? '';

          const ended = await client.request('DELETE', `/me/sessions/${id}`, {
            bearer: caller,
            cookies: false,
          });

          assert.equal(ended.status, 204);
          assert.equal(await meThere(), 401);
        } finally {
          await other.close();
          await deps.close();
        }
      });
    }
  });
}
