import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { createAdminKey } from '../../src/flows/admin-keys.ts';
import { deriveAccountPseudonymKey, pseudonymizeEmailKey } from '../../src/http/security-log.ts';
import { HttpClient, readHiddenField } from '../support/http-client.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import type { CapturedEmail } from '../support/smtp-capture.ts';

const password = 'plover fennel quarry';
const newPassword = 'juniper ostrich lantern';
const wrongPasswords = ['walrus kettle saddle 1', 'walrus kettle saddle 2', 'walrus kettle saddle 3'];

/** Generous per-IP budgets, a tight per-account one, and a tight per-IP one on /resend-verification. */
const budgets = [
  'ip.register=1000/60',
  'ip.login=1000/60',
  'ip.verify_email=1000/60',
  'ip.request_password_reset=1000/60',
  'ip.reset_password=1000/60',
  'ip.resend_verification=1/60',
  'account.login.minute=3/60',
].join(',');

function isTo(address: string, subject: RegExp): (email: CapturedEmail) => boolean {
  return (email) => email.to.toLowerCase() === address.toLowerCase() && subject.test(email.subject);
}

function linkTo(email: CapturedEmail, path: string): string {
  const link = email.links.find((candidate) => new URL(candidate).pathname === path);
  assert.ok(link, `the email has a ${path} link`);
  return link;
}

/** Writes raw bytes on a fresh connection and returns whatever comes back before the server hangs up. */
function sendRaw(baseUrl: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

interface LogLine {
  readonly level: number;
  readonly time: number;
  readonly msg?: string;
  readonly event?: string;
  readonly outcome?: string;
  readonly ip?: string;
  readonly route?: string;
  readonly userId?: string;
  readonly account?: string;
  readonly layer?: string;
}

/** A key of SECRET_KEY_PREVIOUS: as secret as SECRET_KEY. */
const previousSecretKey = 'previous-secret-key-for-the-log-test-0123456789';
/** The webhook signing secret, and a receiver's own secret in its endpoint's query (no one listens there). */
const webhookSecret = `whsec_${Buffer.from('webhook-secret-for-the-log-test-0123').toString('base64')}`;
const webhookUrlSecret = 'receiver-secret-in-the-webhook-url-0123';

for (const backend of availableBackends()) {
  describe(`logs keep secrets out, and say who did what (${backend}, LOG_LEVEL=trace)`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend, {
        LOG_LEVEL: 'trace',
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMITS: budgets,
        SECRET_KEY_PREVIOUS: previousSecretKey,
        WEBHOOK_URLS: `http://127.0.0.1:9/hook?key=${webhookUrlSecret}`,
        WEBHOOK_SECRET: webhookSecret,
        WEBHOOK_ALLOW_PRIVATE: 'true',
      });
    });
    after(async () => {
      await service?.close();
    });

    test('a whole journey leaves no password, token, cookie, Authorization value, SECRET_KEY or address in the log', async () => {
      const client = new HttpClient(service.baseUrl);
      const email = `Log.Secrets.${backend.replace(/\W/g, '')}@Example.com`;
      const secrets: string[] = [
        password,
        newPassword,
        ...wrongPasswords,
        service.config.secretKey,
        previousSecretKey,
        webhookSecret,
        webhookUrlSecret,
      ];

      assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
      const verifyLink = linkTo(await service.smtp.waitForEmail(isTo(email, /verify/i)), '/verify-email');
      const verifyToken = new URL(verifyLink).searchParams.get('token') ?? '';
      secrets.push(verifyToken);
      const page = await client.get(verifyLink);
      assert.equal(page.status, 200);
      assert.equal(
        (await client.post('/verify-email', { form: { token: readHiddenField(page.text, 'token') } })).status,
        200,
      );
      assert.equal((await client.get(verifyLink)).status, 400, 'a used link, logged at trace too');

      const login = await client.post('/login', { json: { email, password } });
      assert.equal(login.status, 200);
      const sessionToken: string = login.json.access_token;
      secrets.push(sessionToken, `Bearer ${sessionToken}`, `session_id=${sessionToken}`);
      assert.equal((await client.get('/me', { bearer: sessionToken, cookies: false })).status, 200);
      assert.equal((await client.get('/me')).status, 200, 'by cookie');
      const jwt = await client.post('/jwt', { bearer: sessionToken, cookies: false });
      assert.equal(jwt.status, 200);
      secrets.push(jwt.json.access_token, jwt.json.access_token.split('.')[2]);
      const keys = await service.query<{ sealed_private_key: string }>(
        'select sealed_private_key from jwt_signing_keys',
      );
      secrets.push('-----BEGIN PRIVATE KEY-----', ...keys.map((key) => key.sealed_private_key));
      assert.equal((await client.post('/logout')).status, 200);
      assert.equal((await client.get('/me', { bearer: sessionToken, cookies: false })).status, 401);

      assert.equal((await client.post('/request-password-reset', { json: { email } })).status, 202);
      const resetLink = linkTo(await service.smtp.waitForEmail(isTo(email, /reset/i)), '/reset-password');
      const resetToken = new URL(resetLink).searchParams.get('token') ?? '';
      secrets.push(resetToken);
      assert.equal((await client.get(resetLink)).status, 200);
      const refused = await client.post('/reset-password', {
        json: { token: resetToken, new_password: 'short' },
      });
      assert.equal(refused.status, 422);
      assert.equal(
        (await client.post('/reset-password', { json: { token: resetToken, new_password: newPassword } }))
          .status,
        200,
      );
      assert.equal(
        (await client.post('/reset-password', { json: { token: resetToken, new_password: newPassword } }))
          .status,
        400,
      );
      await service.smtp.waitForEmail(isTo(email, /changed/i));

      const second = await client.post('/login', { json: { email, password: newPassword } });
      assert.equal(second.status, 200);
      secrets.push(second.json.access_token);

      // Refresh tokens, as JSON and as a form, a replay that ends the family, and every token minted.
      const withRefresh = await client.post('/login', {
        json: { email, password: newPassword, refresh_token: true },
        cookies: false,
      });
      assert.equal(withRefresh.status, 200);
      const firstRefreshToken: string = withRefresh.json.refresh_token;
      secrets.push(withRefresh.json.access_token, firstRefreshToken);
      const rotated = await client.post('/token', {
        json: { grant_type: 'refresh_token', refresh_token: firstRefreshToken },
        cookies: false,
      });
      assert.equal(rotated.status, 200);
      secrets.push(rotated.json.access_token, rotated.json.refresh_token);
      const asForm = await client.post('/token', {
        form: { grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token },
        cookies: false,
      });
      assert.equal(asForm.status, 200);
      secrets.push(asForm.json.access_token, asForm.json.refresh_token);
      assert.equal(
        (
          await client.post('/token', {
            json: { grant_type: 'refresh_token', refresh_token: firstRefreshToken },
            cookies: false,
          })
        ).status,
        400,
        'an older token is a replay',
      );
      // A cookie-authenticated POST from a foreign page: refused as cross-site.
      const crossSite = await client.post('/logout', { headers: { origin: 'https://evil.example' } });
      assert.equal(crossSite.status, 403);

      for (const wrong of wrongPasswords) {
        assert.equal((await client.post('/login', { json: { email, password: wrong } })).status, 401);
      }
      const locked = await client.post('/login', { json: { email, password: 'walrus kettle saddle 4' } });
      assert.equal(locked.status, 429, 'the account budget is spent');
      secrets.push('walrus kettle saddle 4');
      const ghost = 'nobody.here@example.com';
      assert.equal((await client.post('/resend-verification', { json: { email: ghost } })).status, 202);
      assert.equal((await client.post('/resend-verification', { json: { email: ghost } })).status, 429);
      // An admin key rides the Authorization header, on a success and on a refusal alike.
      const { key: adminKey } = await createAdminKey(service.deps.http.admin, 'log check');
      secrets.push(adminKey);
      assert.equal((await client.get('/admin/users?limit=1', { bearer: adminKey })).status, 200);
      assert.equal((await client.get('/admin/users', { bearer: `${adminKey}x` })).status, 403);
      // Malformed HTTP is reported by Node before fastify parses it, with the raw bytes of the request.
      const malformed = await sendRaw(
        service.baseUrl,
        `POST /login HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${second.json.access_token}\r\n` +
          `Not a header line\r\nContent-Length: 40\r\n\r\n{"email":"x@example.com","password":"${newPassword}"}`,
      );
      assert.match(malformed, /^HTTP\/1\.1 400 /);
      await new Promise((resolve) => setTimeout(resolve, 300));

      const log = service.logLines.join('\n');
      assert.ok(service.logLines.length > 10, 'trace logging captured lines');
      for (const secret of secrets) {
        assert.ok(secret.length >= 15);
        assert.ok(!log.includes(secret), `the log holds a secret: ${secret.slice(0, 6)}…`);
      }
      assert.ok(!log.includes('"type":"Buffer"'), 'no raw request bytes in the log');
      // Neither the address as typed nor its key; mail lines name the recipient domain only.
      for (const address of [email, email.toLowerCase(), 'log.secrets', ghost]) {
        assert.ok(!log.toLowerCase().includes(address.toLowerCase()), `the log holds the address ${address}`);
      }

      const events = service.logLines
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.event !== undefined);
      for (const line of events) {
        assert.equal(typeof line.time, 'number');
        assert.equal(line.ip, '127.0.0.1');
        assert.equal(typeof line.outcome, 'string');
        assert.equal(typeof line.route, 'string');
        assert.ok(!(line.route ?? '').includes('?'), 'routes are logged without their query string');
      }
      // Keyed by SECRET_KEY: the plain hash of the address, which anyone can compute from a guess, is not logged.
      const pseudonymKey = deriveAccountPseudonymKey(service.config.secretKey);
      const account = pseudonymizeEmailKey(pseudonymKey, email.toLowerCase());
      const unkeyedHash = createHash('sha256').update(email.toLowerCase()).digest('hex');
      assert.ok(!log.includes(unkeyedHash.slice(0, 16)), 'the log holds the unkeyed hash of the address');
      const logins = events.filter((line) => line.event === 'login');
      assert.deepEqual(
        logins.map((line) => line.outcome),
        [
          'success',
          'success',
          'success',
          'invalid_credentials',
          'invalid_credentials',
          'invalid_credentials',
          'rate_limited',
        ],
      );
      assert.ok(logins.every((line) => line.account === account));
      assert.equal(logins[0]?.userId, login.json.user.id, 'a success names the account id');
      assert.deepEqual(
        events.filter((line) => line.event === 'password_reset').map((line) => line.outcome),
        ['password_too_short', 'success', 'invalid_token'],
      );
      const refreshes = events.filter((line) => line.event === 'token_refresh');
      assert.deepEqual(
        refreshes.map((line) => line.outcome),
        ['success', 'success', 'invalid_grant'],
      );
      assert.equal(refreshes[0]?.userId, login.json.user.id);
      const reuses = events.filter((line) => line.event === 'refresh_token_reuse');
      assert.deepEqual(
        reuses.map((line) => [line.outcome, line.userId]),
        [['family_revoked', login.json.user.id]],
      );
      const throttled = events.filter((line) => line.event === 'throttled');
      assert.equal(throttled.length, 1);
      assert.equal(throttled[0]?.layer, 'ip');
      assert.equal(throttled[0]?.route, '/resend-verification');
      assert.equal(throttled[0]?.account, pseudonymizeEmailKey(pseudonymKey, ghost));
      const csrf = events.filter((line) => line.event === 'csrf_refused');
      assert.equal(csrf.length, 1);
      assert.equal(csrf[0]?.route, '/logout');
    });
  });
}

test('an account pseudonym depends on SECRET_KEY: without it, a guessed address cannot be confirmed', () => {
  const emailKey = 'alice@example.com';
  const first = pseudonymizeEmailKey(
    deriveAccountPseudonymKey('first secret key of forty characters...'),
    emailKey,
  );
  const second = pseudonymizeEmailKey(
    deriveAccountPseudonymKey('second secret key of forty characters..'),
    emailKey,
  );
  assert.match(first, /^[0-9a-f]{16}$/);
  assert.notEqual(first, second);
  assert.notEqual(first, createHash('sha256').update(emailKey).digest('hex').slice(0, 16));
  // Stable under one key: lines of one account still line up across instances and restarts.
  assert.equal(
    pseudonymizeEmailKey(deriveAccountPseudonymKey('first secret key of forty characters...'), emailKey),
    first,
  );
});
