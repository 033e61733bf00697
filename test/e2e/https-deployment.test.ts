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
    const client = new HttpClient(service.baseUrl);
    for (const path of ['/', '/nothing-here']) {
      const answer = await client.get(path);
      assert.match(
        answer.headers.get('strict-transport-security') ?? '',
        /max-age=31536000; includeSubDomains/,
      );
    }
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
    await fetch(`${service.baseUrl}/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
      },
      body: JSON.stringify({ email, password: 'a quiet evening by the sea' }),
    });
    const mail = await service.smtp.waitForEmail((m) => m.to.toLowerCase() === email);
    assert.ok(mail.links.every((link) => link.startsWith('https://auth.example.com/')));
  });
});
