import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { startTestService, type TestService } from '../support/service.ts';

describe('behind https (APP_BASE_URL is https)', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService('embedded', { APP_BASE_URL: 'https://auth.example.com' });
  });
  after(async () => {
    await service?.close();
  });

  test('every answer carries HSTS, and the session cookie is Secure', async () => {
    for (const path of ['/', '/nothing-here']) {
      const answer = await service.app.inject({ method: 'GET', url: path });
      assert.match(
        String(answer.headers['strict-transport-security'] ?? ''),
        /max-age=31536000; includeSubDomains/,
      );
    }
    const client = new HttpClient(service.baseUrl);
    const email = 'secure-cookie@example.com';
    const password = 'a quiet evening by the sea';
    await client.post('/register', { json: { email, password } });
    const mail = await service.smtp.waitForEmail((m) => m.to.toLowerCase() === email);
    const link = mail.links[0] ?? '';
    assert.ok(link.startsWith('https://auth.example.com/verify-email?token='), 'links use APP_BASE_URL');
    const token = new URL(link).searchParams.get('token') ?? '';
    assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);
    const login = await client.post('/login', { json: { email, password } });
    assert.equal(login.status, 200);
    const cookie = login.setCookies.find((line) => line.startsWith('session_id=')) ?? '';
    assert.match(cookie, /;\s*Secure/i);
    assert.match(cookie, /HttpOnly/i);
  });

  test('a Host header never changes where emailed links point', async () => {
    const email = 'host-header@example.com';
    // inject sends the Host header exactly as given (fetch would put the socket's own in its place).
    const registered = await service.app.inject({
      method: 'POST',
      url: '/register',
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
      payload: { email, password: 'a quiet evening by the sea' },
    });
    assert.equal(registered.statusCode, 200);
    const mail = await service.smtp.waitForEmail((m) => m.to.toLowerCase() === email);
    assert.ok(mail.links.every((link) => link.startsWith('https://auth.example.com/')));
  });
});
