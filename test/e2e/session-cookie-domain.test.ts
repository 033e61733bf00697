import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerVerifiedAccount } from '../support/journeys.ts';
import { startTestService, type TestService } from '../support/service.ts';

// SESSION_COOKIE_DOMAIN: an app on a sibling subdomain receives the session cookie; login and logout set and
// clear it with the same Domain (a browser would keep a cookie cleared without it).

describe('SESSION_COOKIE_DOMAIN', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService('embedded', {
      APP_BASE_URL: 'https://auth.example.com',
      SESSION_COOKIE_DOMAIN: 'example.com',
    });
  });
  after(async () => {
    await service?.close();
  });

  test('the session cookie names the shared domain at login, at logout and on the page sign-in', async () => {
    const account = await registerVerifiedAccount(service.baseUrl, service.smtp, {
      verifyThrough: service.baseUrl,
    });
    const login = await fetch(`${service.baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(account),
    });
    assert.equal(login.status, 200);
    const set = login.headers.get('set-cookie') ?? '';
    assert.match(set, /^session_id=[^;]+;.*Domain=example\.com/i);
    assert.match(set, /Secure/);
    const cookie = set.split(';')[0] ?? '';
    const logout = await fetch(`${service.baseUrl}/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(logout.status, 200);
    assert.match(logout.headers.get('set-cookie') ?? '', /^session_id=;.*Domain=example\.com/i);

    const page = await fetch(`${service.baseUrl}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://auth.example.com' },
      body: new URLSearchParams(account).toString(),
    });
    assert.equal(page.status, 303);
    assert.match(page.headers.get('set-cookie') ?? '', /Domain=example\.com/i);
  });
});
