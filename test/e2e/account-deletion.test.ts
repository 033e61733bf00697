import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient, readHiddenField } from '../support/http-client.ts';
import {
  generatePassword,
  logIn,
  registerVerifiedAccount,
  tokenInEmail,
  uniqueEmail,
} from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import type { CapturedEmail } from '../support/smtp-capture.ts';

for (const backend of availableBackends()) {
  describe(`account deletion (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      service = await startTestService(backend);
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    const deletionEmailTo = (address: string) =>
      service.smtp.waitForEmail(
        (email) => email.to.toLowerCase() === address.toLowerCase() && /was deleted/i.test(email.subject),
        10_000,
      );

    test('deleting ends every session at once; login answers as for an unknown address; a reset request sends nothing', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const first = await logIn(service.baseUrl, alice);
      const second = await logIn(service.baseUrl, alice);
      const wrong = await client.post('/me/delete', {
        bearer: first,
        json: { current_password: generatePassword() },
      });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.json.code, 'invalid_current_password');
      assert.equal((await client.get('/me', { bearer: first })).status, 200, 'a refusal changes nothing');

      const deleted = await client.post('/me/delete', {
        bearer: first,
        json: { current_password: alice.password },
      });
      assert.equal(deleted.status, 200);

      for (const token of [first, second])
        assert.equal((await client.get('/me', { bearer: token })).status, 401);
      const login = await client.post('/login', { json: alice });
      const unknown = await client.post('/login', {
        json: { email: uniqueEmail('nobody'), password: alice.password },
      });
      assert.equal(login.status, unknown.status);
      assert.equal(login.text, unknown.text);
      await deletionEmailTo(alice.email);
      const before = service.smtp.messages.length;
      assert.equal(
        (await client.post('/request-password-reset', { json: { email: alice.email } })).status,
        202,
      );
      // Reset mail would be on its way within this time; nothing comes.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(service.smtp.messages.slice(before).filter((email) => email.to === alice.email).length, 0);
    });

    test('the restore link brings the account back as it was, once', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const token = await logIn(service.baseUrl, alice);
      assert.equal(
        (await client.post('/me/delete', { bearer: token, form: { current_password: alice.password } }))
          .status,
        200,
      );
      const restore = tokenInEmail(await deletionEmailTo(alice.email), '/restore-account');

      const page = await client.get(`/restore-account?token=${restore}`);
      assert.equal(page.status, 200);
      assert.equal(readHiddenField(page.text, 'token'), restore);
      assert.equal((await client.post('/login', { json: alice })).status, 401, 'the page changed nothing');

      const restored = await client.post('/restore-account', { form: { token: restore } });
      assert.equal(restored.status, 200);
      assert.match(restored.text, /Account restored/);
      const again = await logIn(service.baseUrl, alice);
      const me = await client.get('/me', { bearer: again });
      assert.equal(me.json.is_verified, true);
      assert.equal((await client.post('/restore-account', { json: { token: restore } })).status, 400);
      assert.equal((await client.get(`/restore-account?token=${restore}`)).status, 400);
    });

    test('registering the address during the grace answers as always', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const token = await logIn(service.baseUrl, alice);
      await client.post('/me/delete', { bearer: token, json: { current_password: alice.password } });
      const during = await client.post('/register', {
        json: { email: alice.email, password: generatePassword() },
      });
      const fresh = await client.post('/register', {
        json: { email: uniqueEmail('fresh'), password: generatePassword() },
      });
      assert.equal(during.status, fresh.status);
      assert.equal(during.text, fresh.text);
    });

    test('a cross-site request riding the session cookie is refused and deletes nothing', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: alice })).status, 200);
      const refused = await browser.post('/me/delete', {
        form: { current_password: alice.password },
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.json.code, 'csrf_refused');
      assert.equal((await browser.get('/me')).status, 200);
    });
  });

  describe(`account deletion with no grace (${backend})`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend, {
        ACCOUNT_DELETION_GRACE_DAYS: '0',
        CLEANUP_INTERVAL_SECONDS: '1',
      });
    });
    after(async () => {
      await service?.close();
    });

    test('housekeeping removes the account, and the address registers as new', async () => {
      const client = new HttpClient(service.baseUrl);
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const token = await logIn(service.baseUrl, alice);
      assert.equal(
        (await client.post('/me/delete', { bearer: token, json: { current_password: alice.password } }))
          .status,
        200,
      );
      const notice = await service.smtp.waitForEmail(
        (email) => email.to === alice.email && /was deleted/i.test(email.subject),
      );
      assert.match(notice.text, /cannot be restored/);
      // The service's own housekeeping, as the worker or the API process runs it (every second here).
      const stopHousekeeping = service.deps.startHousekeeping();
      try {
        const deadline = Date.now() + 10_000;
        while ((await service.query('select 1 from users where email = $1', [alice.email])).length > 0) {
          assert.ok(Date.now() < deadline, 'housekeeping removed the account within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } finally {
        await stopHousekeeping();
      }
      const newPassword = generatePassword();
      const registered = await client.post('/register', {
        json: { email: alice.email, password: newPassword },
      });
      assert.equal(registered.status, 200);
      const isVerifyEmail = (email: CapturedEmail) =>
        email.to === alice.email && /verify/i.test(email.subject);
      await service.smtp.waitForEmail(() => service.smtp.messages.filter(isVerifyEmail).length === 2);
      const link = service.smtp.messages.filter(isVerifyEmail).at(-1)?.links[0] ?? '';
      const verified = await client.post('/verify-email', {
        json: { token: new URL(link).searchParams.get('token') },
      });
      assert.equal(verified.status, 200, 'a new account, with a fresh verification link');
      await logIn(service.baseUrl, { email: alice.email, password: newPassword });
    });
  });
}
