import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { HttpClient } from '../support/http-client.ts';
import { raceOneResetToken } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import type { CapturedEmail } from '../support/smtp-capture.ts';

const password = 'correct horse battery';
let counter = 0;
function freshAddress(label: string): string {
  counter += 1;
  return `${label}-${counter}-${Date.now().toString(36)}@example.com`;
}
function tokenFrom(email: CapturedEmail, path: string): string {
  const link = email.links.find((candidate) => new URL(candidate).pathname === path);
  assert.ok(link, `the email has a ${path} link`);
  const token = new URL(link).searchParams.get('token');
  assert.ok(token);
  return token;
}
function isTo(address: string, subject: RegExp): (email: CapturedEmail) => boolean {
  return (email) => email.to.toLowerCase() === address.toLowerCase() && subject.test(email.subject);
}

async function registerVerified(service: TestService, client: HttpClient, email: string): Promise<void> {
  assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
  const mail = await service.smtp.waitForEmail(isTo(email, /verify/i));
  assert.equal(
    (await client.post('/verify-email', { json: { token: tokenFrom(mail, '/verify-email') } })).status,
    200,
  );
}

for (const backend of availableBackends()) {
  describe(`account rules (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      service = await startTestService(backend);
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    test('registering a taken address answers exactly like a new one, and the owner gets a reset link instead', async () => {
      const email = freshAddress('taken');
      await registerVerified(service, client, email);
      const fresh = await client.post('/register', { json: { email: freshAddress('new'), password } });
      const taken = await client.post('/register', {
        json: { email: email.toUpperCase(), password: 'another password 1' },
      });
      assert.equal(taken.status, fresh.status);
      assert.equal(taken.text, fresh.text);
      const notice = await service.smtp.waitForEmail(isTo(email, /already/i));
      tokenFrom(notice, '/reset-password');
      const login = await client.post('/login', { json: { email, password } });
      assert.equal(login.status, 200, 'the existing password still works');
    });

    test('a reset token works once, even when twenty requests race for it', async () => {
      const email = freshAddress('race');
      await registerVerified(service, client, email);
      assert.equal((await client.post('/request-password-reset', { json: { email } })).status, 202);
      const token = tokenFrom(await service.smtp.waitForEmail(isTo(email, /reset/i)), '/reset-password');
      const winningPassword = await raceOneResetToken(service.baseUrl, token, 20);
      const login = await client.post('/login', { json: { email, password: winningPassword } });
      assert.equal(login.status, 200);
    });

    test('a new reset link makes the older ones stop working', async () => {
      const email = freshAddress('relink');
      await registerVerified(service, client, email);
      await client.post('/request-password-reset', { json: { email } });
      const first = tokenFrom(await service.smtp.waitForEmail(isTo(email, /reset/i)), '/reset-password');
      const before = service.smtp.messages.length;
      await client.post('/request-password-reset', { json: { email } });
      const second = tokenFrom(
        await service.smtp.waitForEmail(
          (m) => service.smtp.messages.indexOf(m) >= before && isTo(email, /reset/i)(m),
        ),
        '/reset-password',
      );
      assert.notEqual(first, second);
      const stale = await client.post('/reset-password', {
        json: { token: first, new_password: 'stale link password' },
      });
      assert.equal(stale.status, 400);
      assert.equal(stale.json.code, 'invalid_token');
      const current = await client.post('/reset-password', {
        json: { token: second, new_password: 'fresh link password' },
      });
      assert.equal(current.status, 200);
    });

    test('no stored column holds an emailed token: the database keeps only hashes and sealed mail', async () => {
      const email = freshAddress('stored');
      await client.post('/register', { json: { email, password } });
      const verifyToken = tokenFrom(await service.smtp.waitForEmail(isTo(email, /verify/i)), '/verify-email');
      await client.post('/verify-email', { json: { token: verifyToken } });
      await client.post('/request-password-reset', { json: { email } });
      const resetToken = tokenFrom(await service.smtp.waitForEmail(isTo(email, /reset/i)), '/reset-password');
      const login = await client.post('/login', { json: { email, password } });
      const sessionToken: string = login.json.access_token;
      const tables = ['users', 'user_tokens', 'sessions', 'email_outbox'];
      for (const table of tables) {
        const rows = await service.query<Record<string, unknown>>(`select * from ${table}`);
        const dump = JSON.stringify(rows);
        for (const token of [verifyToken, resetToken, sessionToken]) {
          assert.ok(!dump.includes(token), `${table} holds a token in clear`);
        }
        assert.ok(!dump.includes(password), `${table} holds a password in clear`);
      }
    });

    test('SMTP down during registration: the answer is the usual one and the email arrives once SMTP is back', async () => {
      const email = freshAddress('outage');
      await service.smtp.stop();
      try {
        const answer = await client.post('/register', { json: { email, password } });
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.json, { message: 'User registered successfully' });
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await service.smtp.restart();
      }
      // The dispatcher retries with backoff; the first retry comes within seconds.
      const mail = await service.smtp.waitForEmail(isTo(email, /verify/i), 30_000);
      assert.ok(mail.messageId.length > 0);
      const copies = service.smtp.messages.filter(isTo(email, /verify/i));
      assert.equal(copies.length, 1);
    });

    test('unknown address and wrong password get the identical 401', async () => {
      const email = freshAddress('known');
      await registerVerified(service, client, email);
      const wrong = await client.post('/login', { json: { email, password: 'not the password at all' } });
      const unknown = await client.post('/login', { json: { email: freshAddress('nobody'), password } });
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.text, unknown.text);
      assert.deepEqual(wrong.json, { detail: 'Incorrect email or password', code: 'invalid_credentials' });
    });

    test('squatting: a stranger who registered an address first holds no working password once its owner registers', async () => {
      const email = freshAddress('squatted');
      const squatterPassword = 'squatter password 1';
      const ownerPassword = 'owner password 12345';
      await client.post('/register', { json: { email, password: squatterPassword } });
      const squatterLink = tokenFrom(
        await service.smtp.waitForEmail(isTo(email, /verify/i)),
        '/verify-email',
      );
      // The owner signs up; the address is taken, so the owner gets the "already registered" email.
      const owner = await client.post('/register', { json: { email, password: ownerPassword } });
      assert.equal(owner.status, 200);
      const notice = await service.smtp.waitForEmail(isTo(email, /already/i));
      const squatterLogin = await client.post('/login', { json: { email, password: squatterPassword } });
      assert.equal(squatterLogin.status, 401, 'the squatter password stopped working');
      const oldLink = await client.post('/verify-email', { json: { token: squatterLink } });
      assert.equal(oldLink.status, 400, 'the squatter verification link stopped working');
      const reset = await client.post('/reset-password', {
        json: { token: tokenFrom(notice, '/reset-password'), new_password: ownerPassword },
      });
      assert.equal(reset.status, 200);
      const login = await client.post('/login', { json: { email, password: ownerPassword } });
      assert.equal(login.status, 200);
      assert.equal(login.json.user.is_verified, true, 'the reset proved the mailbox');
    });

    test('registering twice with the same password sends a fresh verification link instead', async () => {
      const email = freshAddress('twice');
      await client.post('/register', { json: { email, password } });
      await service.smtp.waitForEmail(isTo(email, /verify/i));
      const before = service.smtp.messages.length;
      await client.post('/register', { json: { email, password } });
      const second = await service.smtp.waitForEmail(
        (m) => service.smtp.messages.indexOf(m) >= before && isTo(email, /verify/i)(m),
      );
      assert.equal(
        (await client.post('/verify-email', { json: { token: tokenFrom(second, '/verify-email') } })).status,
        200,
      );
      assert.equal((await client.post('/login', { json: { email, password } })).status, 200);
    });

    test('a password hash from the tutorial database (bcrypt) logs in and is upgraded to argon2id', async () => {
      const email = freshAddress('legacy');
      const legacyHash = await bcrypt.hash(password, 4);
      await service.query(
        'insert into users (email, email_key, password_hash, is_verified) values ($1, $2, $3, true)',
        [email, email.toLowerCase(), legacyHash],
      );
      assert.equal(
        (await client.post('/login', { json: { email, password: 'wrong password here' } })).status,
        401,
      );
      assert.equal((await client.post('/login', { json: { email, password } })).status, 200);
      const [row] = await service.query<{ password_hash: string }>(
        'select password_hash from users where email = $1',
        [email],
      );
      assert.match(row?.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal((await client.post('/login', { json: { email, password } })).status, 200);
    });

    test('resend-verification and request-password-reset answer the same for known and unknown addresses', async () => {
      const email = freshAddress('unverified');
      await client.post('/register', { json: { email, password } });
      const known = await client.post('/resend-verification', { json: { email } });
      const unknown = await client.post('/resend-verification', { json: { email: freshAddress('ghost') } });
      assert.equal(known.status, 202);
      assert.equal(known.text, unknown.text);
      const resetKnown = await client.post('/request-password-reset', { json: { email } });
      const resetUnknown = await client.post('/request-password-reset', {
        json: { email: freshAddress('ghost') },
      });
      assert.equal(resetKnown.status, 202);
      assert.equal(resetKnown.text, resetUnknown.text);
    });
  });
}
