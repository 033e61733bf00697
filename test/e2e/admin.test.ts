import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { createAdminKey } from '../../src/flows/admin-keys.ts';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import {
  generatePassword,
  logIn,
  readEmailedToken,
  registerVerifiedAccount,
  uniqueEmail,
} from '../support/journeys.ts';
import { uniqueRunId } from '../support/backends.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

/** Runs `npm run admin -- <args>` as a process against the service's database and Redis. */
async function runAdminCli(
  service: TestService,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { config } = service;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    SECRET_KEY: config.secretKey,
    DATA_DIR: config.dataDir,
    APP_BASE_URL: config.http.appBaseUrl.href,
    FROM_EMAIL: config.email.from,
    ...(config.database.url === undefined ? {} : { DATABASE_URL: config.database.url }),
    ...(config.redis?.topology.kind === 'url'
      ? { REDIS_URL: config.redis.topology.url, REDIS_KEY_PREFIX: config.redis.keyPrefix }
      : {}),
  };
  const child = spawn(process.execPath, ['src/cli/admin.ts', ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

for (const backend of availableBackends()) {
  describe(`admin API (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    let adminKey: string;
    let adminKeyId: string;
    before(async () => {
      service = await startTestService(backend);
      client = new HttpClient(service.baseUrl);
      const created = await createAdminKey(service.deps.http.admin, 'e2e');
      adminKey = created.key;
      adminKeyId = created.adminKey.id;
    });
    after(async () => {
      await service?.close();
    });

    const asAdmin = (method: string, path: string): Promise<HttpAnswer> =>
      client.request(method, path, { bearer: adminKey, headers: { 'user-agent': 'AdminConsole/2.0' } });
    const userIdOf = async (email: string): Promise<string> => {
      const found = await asAdmin('GET', `/admin/users?email=${encodeURIComponent(email)}`);
      assert.equal(found.status, 200);
      assert.equal(found.json.users.length, 1, `one account for ${email}`);
      return found.json.users[0].id as string;
    };

    test('no key is 401; a wrong, revoked or session token is 403, one answer for all', async () => {
      const none = await client.get('/admin/users');
      assert.equal(none.status, 401);
      assert.equal(none.json.code, 'admin_key_required');

      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const session = await logIn(service.baseUrl, alice);
      const revoked = await createAdminKey(service.deps.http.admin, 'to revoke');
      const revokedAnswer = await service.deps.http.admin.adminKeys.revokeAdminKey(
        revoked.adminKey.id,
        new Date(),
      );
      assert.equal(revokedAnswer, true);
      const answers = [];
      for (const bearer of [session, `lk_admin_${'A'.repeat(43)}`, revoked.key, `${adminKey}x`]) {
        answers.push(await client.get('/admin/users', { bearer }));
      }
      for (const answer of answers) {
        assert.equal(answer.status, 403);
        assert.equal(answer.text, answers[0]?.text);
        assert.equal(answer.json.code, 'admin_key_refused');
      }
      const refusals = service.logLines.filter((line) => line.includes('"event":"admin_refused"'));
      assert.ok(refusals.some((line) => line.includes('"outcome":"admin_key_refused"')));
      assert.ok(refusals.some((line) => line.includes('"outcome":"admin_key_required"')));
      const refusedRows = await service.query<{ count: number }>(
        "select count(*)::int as count from audit_events where outcome like 'admin_key%'",
      );
      assert.equal(refusedRows[0]?.count, 0, 'a refused key writes nothing to the database');
      // A session cookie is no admin credential either.
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: alice })).status, 200);
      assert.equal((await browser.get('/admin/users')).status, 401);
      assert.equal((await asAdmin('GET', '/admin/users?limit=1')).status, 200);
    });

    test('a lookup by address is normalised as login normalises it; ids are checked', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const shouted = encodeURIComponent(`  ${alice.email.toUpperCase()} `);
      const found = await asAdmin('GET', `/admin/users?email=${shouted}`);
      assert.equal(found.status, 200);
      assert.deepEqual(
        found.json.users.map((user: { email: string }) => user.email),
        [alice.email],
      );
      assert.equal(found.json.next_cursor, null);
      const nobody = await asAdmin('GET', `/admin/users?email=${encodeURIComponent(uniqueEmail('nobody'))}`);
      assert.deepEqual(nobody.json.users, []);

      const malformed = await asAdmin('GET', "/admin/users/1'%20or%201=1");
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.code, 'malformed_id');
      const unknown = await asAdmin('GET', '/admin/users/00000000-0000-4000-8000-000000000000');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.code, 'user_not_found');
      assert.equal((await asAdmin('GET', '/admin/users?limit=101')).status, 422);
      assert.equal((await asAdmin('GET', '/admin/users?cursor=garbage')).status, 400);
    });

    test('120 accounts, 50 a page: every account exactly once, and next_cursor is null only at the end', async () => {
      const tag = `page${uniqueRunId()}`.toLowerCase();
      await service.query(
        `insert into users (email, email_key, password_hash, is_verified)
         select $1 || n || '@example.com', $1 || n || '@example.com', null, true from generate_series(1, 120) as n`,
        [`Listed.${tag}.`],
      );
      const sizes: number[] = [];
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/admin/users?q=${encodeURIComponent(tag.toUpperCase())}&limit=50${cursor === null ? '' : `&cursor=${cursor}`}`;
        const page = await asAdmin('GET', query);
        assert.equal(page.status, 200);
        sizes.push(page.json.users.length);
        seen.push(...page.json.users.map((user: { id: string }) => user.id));
        cursor = page.json.next_cursor;
      } while (cursor !== null);
      assert.deepEqual(sizes, [50, 50, 20]);
      assert.equal(new Set(seen).size, 120);
    });

    test('disable ends every session at once and login answers 403 account_disabled; enable lets the owner back in', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const sessions = [await logIn(service.baseUrl, alice), await logIn(service.baseUrl, alice)];
      const id = await userIdOf(alice.email);
      assert.equal((await asAdmin('GET', `/admin/users/${id}`)).json.session_count, 2);

      assert.equal((await asAdmin('POST', `/admin/users/${id}/disable`)).status, 204);
      for (const token of sessions) assert.equal((await client.get('/me', { bearer: token })).status, 401);
      const refused = await client.post('/login', { json: alice });
      assert.equal(refused.status, 403);
      assert.equal(refused.json.code, 'account_disabled');
      const details = await asAdmin('GET', `/admin/users/${id}`);
      assert.equal(details.json.is_active, false);
      assert.equal(details.json.session_count, 0);

      assert.equal((await asAdmin('POST', `/admin/users/${id}/enable`)).status, 204);
      const back = await logIn(service.baseUrl, alice);
      assert.equal((await client.get('/me', { bearer: back })).status, 200);
      assert.equal((await asAdmin('POST', `/admin/users/${id}/logout`)).status, 204);
      assert.equal((await client.get('/me', { bearer: back })).status, 401);
    });

    test('resend-verification and password-reset email the owner; the reset link works; no answer holds a password or link', async () => {
      const bob = { email: uniqueEmail('bob'), password: generatePassword() };
      assert.equal((await client.post('/register', { json: bob })).status, 200);
      await readEmailedToken(service.smtp, bob.email, '/verify-email');
      const id = await userIdOf(bob.email);
      const before = service.smtp.messages.length;
      const resent = await asAdmin('POST', `/admin/users/${id}/resend-verification`);
      assert.equal(resent.status, 202);
      assert.deepEqual(Object.keys(resent.json), ['message']);
      await service.smtp.waitForEmail(
        (email) => email.to === bob.email && service.smtp.messages.indexOf(email) >= before,
        10_000,
      );
      const verify = await readEmailedToken(service.smtp, bob.email, '/verify-email');
      assert.equal((await client.post('/verify-email', { json: { token: verify } })).status, 200);
      const again = await asAdmin('POST', `/admin/users/${id}/resend-verification`);
      assert.equal(again.status, 409);
      assert.equal(again.json.code, 'already_verified');

      const reset = await asAdmin('POST', `/admin/users/${id}/password-reset`);
      assert.equal(reset.status, 202);
      const token = await readEmailedToken(service.smtp, bob.email, '/reset-password');
      const newPassword = generatePassword();
      assert.equal(
        (await client.post('/reset-password', { json: { token, new_password: newPassword } })).status,
        200,
      );
      await logIn(service.baseUrl, { email: bob.email, password: newPassword });
    });

    test('delete takes the account away with the self-deletion grace: the owner gets the restore link', async () => {
      const carol = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const session = await logIn(service.baseUrl, carol);
      const id = await userIdOf(carol.email);
      assert.equal((await client.request('DELETE', `/admin/users/${id}`, { bearer: adminKey })).status, 202);
      assert.equal((await client.get('/me', { bearer: session })).status, 401);
      assert.equal((await client.post('/login', { json: carol })).status, 401);
      const details = await asAdmin('GET', `/admin/users/${id}`);
      assert.equal(details.json.pending_deletion, true);
      const email = await service.smtp.waitForEmail(
        (candidate) => candidate.to === carol.email && /was deleted/i.test(candidate.subject),
        10_000,
      );
      assert.ok(email.links.some((link) => new URL(link).pathname === '/restore-account'));
    });

    test('the outbox listing shows domain, template and attempts, never the address or the link', async () => {
      const dave = uniqueEmail('dave');
      await service.query(
        `insert into email_outbox (id, message_id, recipient, template, payload, status, attempts, last_error)
         values (gen_random_uuid(), $1, $2, 'password_reset', 'sealed', 'abandoned', 8, $3)`,
        [`<${uniqueRunId()}@latchkey.test>`, dave, `550 5.1.1 <${dave}>: no such user`],
      );
      const page = await asAdmin('GET', '/admin/outbox?status=abandoned&limit=100');
      assert.equal(page.status, 200);
      const entry = page.json.emails.find(
        (email: { last_error: string | null }) => email.last_error?.includes('no such user') === true,
      );
      assert.ok(entry, 'the abandoned email is listed');
      assert.equal(entry.recipient_domain, 'example.com');
      assert.equal(entry.template, 'password_reset');
      assert.equal(entry.attempts, 8);
      assert.ok(!page.text.includes(dave.split('@')[0] ?? dave));
      assert.ok(!page.text.includes('sealed'));
      assert.equal((await asAdmin('GET', '/admin/outbox?status=sent')).status, 422);
    });

    test('a whole journey is in the audit trail with IP, User-Agent and actor, and the table holds no secret', async () => {
      const erin = { email: uniqueEmail('erin'), password: generatePassword() };
      const browser = (method: string, path: string, json: unknown, bearer?: string) =>
        client.request(method, path, {
          json,
          headers: { 'user-agent': 'JourneyBrowser/1.0' },
          ...(bearer === undefined ? {} : { bearer }),
        });
      assert.equal((await browser('POST', '/register', erin)).status, 200);
      const verify = await readEmailedToken(service.smtp, erin.email, '/verify-email');
      assert.equal((await browser('POST', '/verify-email', { token: verify })).status, 200);
      assert.equal(
        (await browser('POST', '/login', { ...erin, password: 'wrong password, wrong' })).status,
        401,
      );
      const login = await browser('POST', '/login', erin);
      const session = login.json.access_token as string;
      assert.equal((await browser('POST', '/logout', undefined, session)).status, 200);
      assert.equal((await browser('POST', '/request-password-reset', { email: erin.email })).status, 202);
      const reset = await readEmailedToken(service.smtp, erin.email, '/reset-password');
      const newPassword = generatePassword();
      assert.equal(
        (await browser('POST', '/reset-password', { token: reset, new_password: newPassword })).status,
        200,
      );
      const id = await userIdOf(erin.email);
      assert.equal((await asAdmin('POST', `/admin/users/${id}/disable`)).status, 204);

      const trail = await asAdmin('GET', `/admin/audit?user_id=${id}&limit=100`);
      assert.equal(trail.status, 200);
      const rows = trail.json.events as {
        event: string;
        outcome: string;
        ip: string;
        user_agent: string;
        actor: string;
        request_id: string | null;
      }[];
      assert.deepEqual(
        rows.map((row) => [row.event, row.outcome, row.actor]),
        [
          ['registration', 'success', 'self'],
          ['email_verification', 'success', 'self'],
          ['login', 'invalid_credentials', 'self'],
          ['login', 'success', 'self'],
          ['logout', 'success', 'self'],
          ['password_reset_requested', 'success', 'self'],
          ['password_reset', 'success', 'self'],
          ['admin_user_lookup', 'success', `admin:${adminKeyId}`],
          ['admin_disable', 'success', `admin:${adminKeyId}`],
        ],
      );
      for (const row of rows) {
        assert.equal(row.ip, '127.0.0.1');
        assert.ok(row.request_id);
      }
      assert.deepEqual(
        [...new Set(rows.map((row) => row.user_agent))],
        ['JourneyBrowser/1.0', 'AdminConsole/2.0'],
      );
      const since = await asAdmin(
        'GET',
        `/admin/audit?event=admin_disable&since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`,
      );
      assert.ok(since.json.events.some((row: { user_id: string }) => row.user_id === id));

      const table = JSON.stringify(await service.query('select * from audit_events'));
      for (const secret of [erin.password, newPassword, session, verify, reset, adminKey, erin.email]) {
        assert.ok(!table.includes(secret), 'the audit table holds no password, token, key or address');
      }
      assert.ok(!table.includes(erin.email.split('@')[0] ?? erin.email));
      const keyRow = JSON.stringify(await service.query('select * from admin_keys'));
      assert.ok(!keyRow.includes(adminKey), 'only the hash of an admin key is stored');
    });

    if (backend === 'postgres+redis') {
      test('the CLI as a process: key create, list and revoke; users find and disable', async () => {
        const created = await runAdminCli(service, ['key', 'create', '--name', 'from the cli']);
        assert.equal(created.code, 0, created.stderr);
        const key = created.stdout.trim();
        assert.match(key, /^lk_admin_[A-Za-z0-9_-]{43}$/);
        assert.equal((await client.get('/admin/users?limit=1', { bearer: key })).status, 200);

        const listed = await runAdminCli(service, ['key', 'list']);
        assert.equal(listed.code, 0, listed.stderr);
        const line = listed.stdout.split('\n').find((row) => row.includes('from the cli'));
        assert.ok(line, 'the new key is listed');
        assert.ok(!listed.stdout.includes(key), 'a key is shown once, at creation');
        const keyId = line.split('\t')[0] ?? '';

        const frank = await registerVerifiedAccount(service.baseUrl, service.smtp);
        const session = await logIn(service.baseUrl, frank);
        const found = await runAdminCli(service, ['users', 'find', frank.email.toUpperCase()]);
        assert.equal(found.code, 0, found.stderr);
        const user = JSON.parse(found.stdout) as { id: string; email: string };
        assert.equal(user.email, frank.email);
        const disabled = await runAdminCli(service, ['users', 'disable', user.id]);
        assert.equal(disabled.code, 0, disabled.stderr);
        assert.equal((await client.get('/me', { bearer: session })).status, 401);
        assert.equal((await client.post('/login', { json: frank })).status, 403);
        const trail = await asAdmin('GET', `/admin/audit?user_id=${user.id}&event=admin_disable`);
        assert.deepEqual(
          trail.json.events.map((row: { actor: string }) => row.actor),
          ['cli'],
        );

        const revoked = await runAdminCli(service, ['key', 'revoke', keyId]);
        assert.equal(revoked.code, 0, revoked.stderr);
        assert.equal((await client.get('/admin/users?limit=1', { bearer: key })).status, 403);
        assert.equal((await runAdminCli(service, ['users', 'find'])).code, 2);
      });
    }
  });
}
