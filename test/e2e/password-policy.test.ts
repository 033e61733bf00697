import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { HttpClient, readHiddenField } from '../support/http-client.ts';
import { startTestService, type TestService } from '../support/service.ts';
import type { CapturedEmail } from '../support/smtp-capture.ts';

const quietEnvironment = { SECRET_KEY: 'x'.repeat(40), DATA_DIR: tmpdir() };

function isTo(address: string, subject: RegExp): (email: CapturedEmail) => boolean {
  return (email) => email.to.toLowerCase() === address.toLowerCase() && subject.test(email.subject);
}

describe('PASSWORD_MIN_LENGTH', () => {
  test('defaults to 15 and accepts 8 to 128; anything else stops start-up with the reason', () => {
    assert.equal(loadConfig(quietEnvironment).passwords.minimumLength, 15);
    assert.equal(loadConfig({ ...quietEnvironment, PASSWORD_MIN_LENGTH: '8' }).passwords.minimumLength, 8);
    for (const value of ['7', '129', 'fifteen', '15.5']) {
      assert.throws(
        () => loadConfig({ ...quietEnvironment, PASSWORD_MIN_LENGTH: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.some((problem) =>
            problem.startsWith('PASSWORD_MIN_LENGTH must be an integer from 8'),
          ),
        value,
      );
    }
  });
});

describe('the password policy over HTTP (PASSWORD_MIN_LENGTH=20)', () => {
  let service: TestService;
  let client: HttpClient;
  before(async () => {
    service = await startTestService('embedded', { PASSWORD_MIN_LENGTH: '20' });
    client = new HttpClient(service.baseUrl);
  });
  after(async () => {
    await service?.close();
  });

  async function countUsers(): Promise<number> {
    const [row] = await service.query<{ count: string }>('select count(*) from users');
    return Number(row?.count);
  }

  test('registration names the rule that failed and creates nothing', async () => {
    const cases: [string, string, string][] = [
      ['nineteen characters', 'rule@example.com', 'password_too_short'],
      ['y'.repeat(129), 'rule@example.com', 'password_too_long'],
      ['1234567890qwertyuiop', 'rule@example.com', 'password_too_common'],
      ['12345678901234567890', 'rule@example.com', 'password_too_common'],
      ['I am Margaret.Hamilton, hello', 'margaret.hamilton@example.com', 'password_contains_email'],
    ];
    for (const [password, email, code] of cases) {
      const answer = await client.post('/register', { json: { email, password } });
      assert.equal(answer.status, 422, password);
      assert.equal(answer.json.code, code, password);
      assert.equal(typeof answer.json.detail, 'string');
    }
    assert.equal(await countUsers(), 0);
  });

  test('a reset applies the same rules, the address rule with the address of the account', async () => {
    const email = 'grace.hopper@example.com';
    const password = 'compilers were her idea';
    assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
    await service.smtp.waitForEmail(isTo(email, /verify/i));
    assert.equal((await client.post('/request-password-reset', { json: { email } })).status, 202);
    const link = (await service.smtp.waitForEmail(isTo(email, /reset/i))).links[0] ?? '';

    const page = await client.get(link);
    assert.equal(page.status, 200);
    assert.match(page.text, /minlength="20"/);
    assert.match(page.text, /At least 20 characters/);
    const token = readHiddenField(page.text, 'token');

    const containsEmail = await client.post('/reset-password', {
      json: { token, new_password: 'Grace.Hopper wrote COBOL' },
    });
    assert.equal(containsEmail.status, 422);
    assert.equal(containsEmail.json.code, 'password_contains_email');
    const common = await client.post('/reset-password', {
      form: { token, new_password: '1234567890qwertyuiop' },
    });
    assert.equal(common.status, 422);
    assert.match(common.headers.get('content-type') ?? '', /text\/html/);
    assert.match(common.text, /too common/);
    const short = await client.post('/reset-password', { json: { token, new_password: 'a short one' } });
    assert.equal(short.json.code, 'password_too_short');

    // Refusals consume nothing: the link still works with an acceptable password.
    const accepted = await client.post('/reset-password', {
      json: { token, new_password: 'nanoseconds are a foot long' },
    });
    assert.equal(accepted.status, 200);
    const login = await client.post('/login', { json: { email, password: 'nanoseconds are a foot long' } });
    assert.equal(login.status, 200);
  });

  test('login does not judge old passwords: only the stored hash decides', async () => {
    const answer = await client.post('/login', { json: { email: 'nobody@example.com', password: 'x' } });
    assert.equal(answer.status, 401);
    assert.equal(answer.json.code, 'invalid_credentials');
  });
});
