import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient, readHiddenField } from '../support/http-client.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

const password = 'correct horse battery';
const newPassword = 'a brand new passphrase';

function linkTo(email: { links: string[] }, path: string): string {
  const link = email.links.find((candidate) => new URL(candidate).pathname === path);
  assert.ok(link, `the email has a ${path} link`);
  return link;
}

for (const backend of availableBackends()) {
  describe(`the whole journey, following the emailed links (${backend})`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend);
    });
    after(async () => {
      await service?.close();
    });

    test('register, verify, log in, who-am-I, log out, reset, log in with the new password', async () => {
      const client = new HttpClient(service.baseUrl);
      const email = `Journey.${backend.replace(/\W/g, '')}@Example.com`;

      const registered = await client.post('/register', { json: { email, password } });
      assert.equal(registered.status, 200);
      assert.deepEqual(registered.json, { message: 'User registered successfully' });

      const verification = await service.smtp.waitForEmail(
        (m) => m.to.toLowerCase() === email.toLowerCase() && /verify/i.test(m.subject),
      );
      const verifyLink = linkTo(verification, '/verify-email');
      assert.ok(verifyLink.startsWith(service.baseUrl), 'links point at APP_BASE_URL');
      assert.ok(verification.html.includes('/verify-email?token='), 'the HTML part carries the link too');

      // Opening the link (as a mail scanner would) changes nothing.
      const page = await client.get(verifyLink);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.text, /<form method="post" action="\/verify-email">/);
      const head = await client.request('HEAD', verifyLink);
      assert.equal(head.status, 200);
      const tooEarly = await client.post('/login', { json: { email, password } });
      assert.equal(tooEarly.status, 403);
      assert.equal(tooEarly.json.code, 'email_not_verified');

      const confirmed = await client.post('/verify-email', {
        form: { token: readHiddenField(page.text, 'token') },
      });
      assert.equal(confirmed.status, 200);
      assert.match(confirmed.text, /Email verified/);
      const again = await client.post('/verify-email', {
        json: { token: readHiddenField(page.text, 'token') },
      });
      assert.equal(again.status, 400, 'a verification link works once');
      assert.equal(again.json.code, 'invalid_token');

      // The address matches case-insensitively.
      const login = await client.post('/login', { json: { email: email.toLowerCase(), password } });
      assert.equal(login.status, 200);
      assert.equal(login.json.token_type, 'bearer');
      assert.equal(login.json.expires_in, 30 * 60);
      assert.equal(login.json.user.email, email);
      assert.equal(login.json.user.is_verified, true);
      const cookie = login.setCookies.find((line) => line.startsWith('session_id='));
      assert.ok(cookie, 'login sets the session cookie');
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Lax/i);
      const bearer: string = login.json.access_token;

      const meByBearer = await client.get('/me', { bearer, cookies: false });
      assert.equal(meByBearer.status, 200);
      assert.deepEqual(meByBearer.json, {
        id: login.json.user.id,
        email,
        is_active: true,
        is_verified: true,
      });
      const meByCookie = await client.get('/me');
      assert.equal(meByCookie.status, 200);
      assert.equal(meByCookie.json.id, login.json.user.id);

      const savedCookies = new Map(client.cookies);
      const logout = await client.post('/logout', { bearer });
      assert.equal(logout.status, 200);
      assert.equal(
        (await client.get('/me', { bearer, cookies: false })).status,
        401,
        'bearer refused after logout',
      );
      client.cookies.clear();
      for (const [name, value] of savedCookies) client.cookies.set(name, value);
      const staleCookie = await client.get('/me');
      assert.equal(staleCookie.status, 401, 'cookie refused after logout');
      assert.equal(staleCookie.json.code, 'not_authenticated');
      client.cookies.clear();

      // A second session that the reset must end.
      const other = new HttpClient(service.baseUrl);
      assert.equal((await other.post('/login', { json: { email, password } })).status, 200);
      assert.equal((await other.get('/me')).status, 200);

      const requested = await client.post('/request-password-reset', { json: { email } });
      assert.equal(requested.status, 202);
      const resetEmail = await service.smtp.waitForEmail(
        (m) => m.to.toLowerCase() === email.toLowerCase() && /reset/i.test(m.subject),
      );
      const resetLink = linkTo(resetEmail, '/reset-password');
      const form = await client.get(resetLink);
      assert.equal(form.status, 200, 'the emailed reset link opens a page (the tutorial answered 405)');
      assert.match(form.text, /name="new_password"/);
      const reset = await client.post('/reset-password', {
        form: { token: readHiddenField(form.text, 'token'), new_password: newPassword },
      });
      assert.equal(reset.status, 200);
      assert.match(reset.text, /Password changed/);

      assert.equal((await other.get('/me')).status, 401, 'a reset ends every session');
      const oldPassword = await client.post('/login', { json: { email, password } });
      assert.equal(oldPassword.status, 401);
      const fresh = await client.post('/login', { json: { email, password: newPassword } });
      assert.equal(fresh.status, 200);
      assert.equal((await client.get('/me', { bearer: fresh.json.access_token })).status, 200);
      await service.smtp.waitForEmail(
        (m) => m.to.toLowerCase() === email.toLowerCase() && /changed/i.test(m.subject),
      );
    });
  });
}
