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
  describe(`email change (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      service = await startTestService(backend);
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    /** The newest email to `to` whose subject matches, waiting for it if `count` are not there yet. */
    async function emailTo(to: string, subject: RegExp, count = 1): Promise<CapturedEmail> {
      const matches = (email: CapturedEmail): boolean =>
        email.to.toLowerCase() === to.toLowerCase() && subject.test(email.subject);
      await service.smtp.waitForEmail(() => service.smtp.messages.filter(matches).length >= count, 10_000);
      const found = service.smtp.messages.filter(matches).at(-1);
      assert.ok(found);
      return found;
    }

    async function account(): Promise<{ email: string; password: string; token: string }> {
      const credentials = await registerVerifiedAccount(service.baseUrl, service.smtp);
      return { ...credentials, token: await logIn(service.baseUrl, credentials) };
    }

    /** Asks for the change; returns the confirm token (a free address) and the old address's cancel token. */
    async function askChange(
      owner: { email: string; password: string; token: string },
      newEmail: string,
    ): Promise<{ confirm: string; cancel: string }> {
      const answer = await client.post('/me/email', {
        bearer: owner.token,
        json: { new_email: newEmail, current_password: owner.password },
      });
      assert.equal(answer.status, 202, answer.text);
      const confirm = tokenInEmail(await emailTo(newEmail, /confirm your new/i), '/confirm-email-change');
      const cancel = tokenInEmail(await emailTo(owner.email, /asked to change/i), '/cancel-email-change');
      return { confirm, cancel };
    }

    test('free, taken and current new addresses get the same answer; a taken one gets its owner a notice', async () => {
      const alice = await account();
      const bob = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const ask = (newEmail: string) =>
        client.post('/me/email', {
          bearer: alice.token,
          json: { new_email: newEmail, current_password: alice.password },
        });
      const free = await ask(uniqueEmail('free'));
      const taken = await ask(bob.email.toUpperCase());
      const current = await ask(alice.email);
      for (const answer of [taken, current]) {
        assert.equal(answer.status, free.status);
        assert.equal(answer.text, free.text);
      }
      assert.equal(free.status, 202);
      const notice = await emailTo(bob.email, /tried to move/i);
      assert.ok(!notice.links.some((link) => new URL(link).pathname === '/confirm-email-change'));
      assert.equal((await client.get('/me', { bearer: alice.token })).json.email, alice.email);
    });

    test('a wrong current password is 403 invalid_current_password, and the 6th in a minute 429', async () => {
      const limited = await startTestService(backend, { RATE_LIMIT_ENABLED: 'true' });
      try {
        const limitedClient = new HttpClient(limited.baseUrl);
        const alice = await registerVerifiedAccount(limited.baseUrl, limited.smtp);
        const token = await logIn(limited.baseUrl, alice);
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 6; attempt += 1) {
          const answer = await limitedClient.post('/me/email', {
            bearer: token,
            json: { new_email: uniqueEmail('new'), current_password: generatePassword() },
          });
          statuses.push(answer.status);
          if (answer.status === 403) assert.equal(answer.json.code, 'invalid_current_password');
        }
        assert.deepEqual(statuses, [403, 403, 403, 403, 403, 429]);
        const login = await limitedClient.post('/login', { json: alice });
        assert.equal(login.status, 429, 'the wrong passwords spent the login budget of the account');
        const anonymous = await limitedClient.post('/me/email', {
          json: { new_email: uniqueEmail('new'), current_password: alice.password },
        });
        assert.equal(anonymous.status, 401);
      } finally {
        await limited.close();
      }
    });

    test('following the links: the GET page changes nothing, the POST switches the address and ends every session', async () => {
      const alice = await account();
      const newEmail = uniqueEmail('moved');
      const { confirm } = await askChange(alice, newEmail);
      assert.equal((await logIn(service.baseUrl, alice)).length > 0, true, 'a pending change blocks nothing');

      const page = await client.get(`/confirm-email-change?token=${confirm}`);
      assert.equal(page.status, 200);
      assert.equal(readHiddenField(page.text, 'token'), confirm);
      assert.equal(
        (await client.get('/me', { bearer: alice.token })).status,
        200,
        'the page changed nothing',
      );

      const done = await client.post('/confirm-email-change', { form: { token: confirm } });
      assert.equal(done.status, 200);
      assert.match(done.text, /Email address changed/);

      assert.equal((await client.get('/me', { bearer: alice.token })).status, 401);
      const oldLogin = await client.post('/login', { json: alice });
      const unknownLogin = await client.post('/login', {
        json: { email: uniqueEmail('nobody'), password: alice.password },
      });
      assert.equal(oldLogin.status, unknownLogin.status);
      assert.equal(oldLogin.text, unknownLogin.text);
      const moved = await logIn(service.baseUrl, { email: newEmail, password: alice.password });
      assert.equal((await client.get('/me', { bearer: moved })).json.email, newEmail);
      const changed = await emailTo(alice.email, /was changed/i);
      tokenInEmail(changed, '/cancel-email-change');
      assert.equal((await client.post('/confirm-email-change', { json: { token: confirm } })).status, 400);
    });

    test('a reset link sent to the old address dies with the change', async () => {
      const alice = await account();
      await client.post('/request-password-reset', { json: { email: alice.email } });
      const reset = tokenInEmail(await emailTo(alice.email, /reset/i), '/reset-password');
      const { confirm } = await askChange(alice, uniqueEmail('moved'));
      assert.equal((await client.post('/confirm-email-change', { json: { token: confirm } })).status, 200);
      const answer = await client.post('/reset-password', {
        json: { token: reset, new_password: generatePassword() },
      });
      assert.equal(answer.status, 400);
      assert.equal(answer.json.code, 'invalid_token');
    });

    test('cancel before confirmation voids the change; after it, restores the old address and sends a reset link', async () => {
      const alice = await account();
      const first = await askChange(alice, uniqueEmail('voided'));
      const voided = await client.post('/cancel-email-change', { json: { token: first.cancel } });
      assert.equal(voided.status, 200);
      assert.equal(voided.json.outcome, 'voided');
      assert.equal(
        (await client.post('/confirm-email-change', { json: { token: first.confirm } })).status,
        400,
      );

      const newEmail = uniqueEmail('taken-over');
      const second = await askChange(alice, newEmail);
      assert.equal(
        (await client.post('/confirm-email-change', { json: { token: second.confirm } })).status,
        200,
      );
      const attacker = await logIn(service.baseUrl, { email: newEmail, password: alice.password });
      const undo = tokenInEmail(await emailTo(alice.email, /was changed/i), '/cancel-email-change');
      assert.equal((await client.get(`/cancel-email-change?token=${undo}`)).status, 200);

      const restored = await client.post('/cancel-email-change', { form: { token: undo } });
      assert.equal(restored.status, 200);
      assert.match(restored.text, /Account restored/);
      assert.equal((await client.get('/me', { bearer: attacker })).status, 401);
      assert.equal((await client.post('/login', { json: alice })).status, 401, 'the password was removed');
      assert.equal(
        (await client.post('/login', { json: { email: newEmail, password: alice.password } })).status,
        401,
      );
      const reset = tokenInEmail(await emailTo(alice.email, /reset/i), '/reset-password');
      const newPassword = generatePassword();
      assert.equal(
        (await client.post('/reset-password', { json: { token: reset, new_password: newPassword } })).status,
        200,
      );
      await logIn(service.baseUrl, { email: alice.email, password: newPassword });
    });

    test('an address registered between request and confirmation answers 409 email_taken and changes nothing', async () => {
      const alice = await account();
      const newEmail = uniqueEmail('raced');
      const { confirm } = await askChange(alice, newEmail);
      await registerVerifiedAccount(service.baseUrl, service.smtp, { email: newEmail });
      const answer = await client.post('/confirm-email-change', { json: { token: confirm } });
      assert.equal(answer.status, 409);
      assert.equal(answer.json.code, 'email_taken');
      assert.equal((await client.get('/me', { bearer: alice.token })).json.email, alice.email);
    });

    test('of 20 concurrent confirmations of one link exactly one succeeds', async () => {
      const alice = await account();
      const { confirm } = await askChange(alice, uniqueEmail('twenty'));
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => client.post('/confirm-email-change', { json: { token: confirm } })),
      );
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [
        200,
        ...Array.from({ length: 19 }, () => 400),
      ]);
    });

    test('when confirm and cancel race, exactly one wins and the address is the winner’s', async () => {
      for (let round = 0; round < 3; round += 1) {
        const alice = await account();
        const newEmail = uniqueEmail('race');
        const { confirm, cancel } = await askChange(alice, newEmail);
        const [confirmed, cancelled] = await Promise.all([
          client.post('/confirm-email-change', { json: { token: confirm } }),
          client.post('/cancel-email-change', { json: { token: cancel } }),
        ]);
        assert.deepEqual([confirmed.status, cancelled.status].sort(), [200, 400]);
        const address = confirmed.status === 200 ? newEmail : alice.email;
        await logIn(service.baseUrl, { email: address, password: alice.password });
      }
    });

    test('a cross-site request riding the session cookie is refused and changes nothing', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: alice })).status, 200);
      const newEmail = uniqueEmail('csrf');
      const refused = await browser.post('/me/email', {
        form: { new_email: newEmail, current_password: alice.password },
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.json.code, 'csrf_refused');
      const sameSite = await browser.post('/me/email', {
        form: { new_email: newEmail, current_password: alice.password },
      });
      assert.equal(sameSite.status, 202, 'the same request from the site itself works');
      assert.equal(
        service.smtp.messages.filter((email) => email.to.toLowerCase() === newEmail.toLowerCase()).length <=
          1,
        true,
      );
    });
  });
}
