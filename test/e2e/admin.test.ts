import assert from 'node:assert/strict';
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
import { runAdminCli } from '../support/admin-cli.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

interface AuditRow extends Record<string, unknown> {
  event: string;
  outcome: string;
  actor: string;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  user_id: string | null;
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
      // A session cookie is no admin credential either.
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: alice })).status, 200);
      assert.equal((await browser.get('/admin/users')).status, 401);
      assert.equal((await asAdmin('GET', '/admin/users?limit=1')).status, 200);
    });

    /** Every audit row written for the calls made with this User-Agent, oldest first. */
    const auditRowsOf = (userAgent: string) =>
      service.query<AuditRow>(
        `select event, outcome, actor, ip, user_agent, request_id, user_id::text as user_id
           from audit_events where user_agent = $1 order by occurred_at, id`,
        [userAgent],
      );
    const asAdminFrom = (userAgent: string, method: string, path: string): Promise<HttpAnswer> =>
      client.request(method, path, { bearer: adminKey, headers: { 'user-agent': userAgent } });

    test('every call an accepted key makes is one audit row: its own event on success, admin_request with code and status on failure', async () => {
      const bob = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const id = await userIdOf(bob.email);
      const unknownId = '00000000-0000-4000-8000-000000000000';
      const calls: {
        method: string;
        path: string;
        status: number;
        event: string;
        outcome: string;
        userId: string | null;
      }[] = [
        {
          method: 'GET',
          path: '/admin/users?limit=1',
          status: 200,
          event: 'admin_user_list',
          outcome: 'success',
          userId: null,
        },
        {
          method: 'GET',
          path: '/admin/users?cursor=garbage',
          status: 400,
          event: 'admin_request',
          outcome: 'failure:400:invalid_cursor',
          userId: null,
        },
        {
          method: 'GET',
          path: `/admin/users/${unknownId}`,
          status: 404,
          event: 'admin_request',
          outcome: 'failure:404:user_not_found',
          userId: unknownId,
        },
        {
          method: 'GET',
          path: '/admin/users/not-a-uuid',
          status: 400,
          event: 'admin_request',
          outcome: 'failure:400:malformed_id',
          userId: null,
        },
        // Refused by the route's schema, before any handler runs: still the key's call.
        {
          method: 'GET',
          path: '/admin/users?limit=101',
          status: 422,
          event: 'admin_request',
          outcome: 'failure:422:invalid_request',
          userId: null,
        },
        {
          method: 'POST',
          path: `/admin/users/${id}/resend-verification`,
          status: 409,
          event: 'admin_request',
          outcome: 'failure:409:already_verified',
          userId: id,
        },
        {
          method: 'POST',
          path: `/admin/users/${id}/logout`,
          status: 204,
          event: 'admin_logout',
          outcome: 'success',
          userId: id,
        },
      ];
      for (const call of calls) {
        const userAgent = `AdminAudit/${uniqueRunId()}`;
        const answer = await asAdminFrom(userAgent, call.method, call.path);
        assert.equal(answer.status, call.status, `${call.method} ${call.path}: ${answer.text}`);
        const rows = await auditRowsOf(userAgent);
        assert.deepEqual(
          rows.map((row) => [row.event, row.outcome, row.actor, row.user_id]),
          [[call.event, call.outcome, `admin:${adminKeyId}`, call.userId]],
          `${call.method} ${call.path} leaves exactly one row`,
        );
        assert.equal(rows[0]?.ip, '127.0.0.1');
        assert.ok(rows[0]?.request_id, 'the row names the request');
        if (call.status >= 400) assert.equal(answer.json.code, call.outcome.split(':')[2]);
      }
      // The operators read the failures through the API too.
      const failures = await asAdmin('GET', `/admin/audit?event=admin_request&limit=100`);
      assert.equal(failures.status, 200);
      assert.ok(
        failures.json.events.some(
          (row: { outcome: string; user_id: string | null }) =>
            row.outcome === 'failure:409:already_verified' && row.user_id === id,
        ),
      );
    });

    test('an unknown path under /admin/ wants a key first: 401/403 without one, 404 not_found (audited) with one', async () => {
      const stranger = `Prober/${uniqueRunId()}`;
      const unkeyed = await client.get('/admin/no-such-route', { headers: { 'user-agent': stranger } });
      assert.equal(unkeyed.status, 401, 'a stranger cannot tell which admin routes exist');
      assert.equal(unkeyed.json.code, 'admin_key_required');
      const wrongKey = await client.get('/admin/no-such-route', {
        bearer: `lk_admin_${'C'.repeat(43)}`,
        headers: { 'user-agent': stranger },
      });
      assert.equal(wrongKey.status, 403);
      assert.deepEqual(
        (await auditRowsOf(stranger)).map((row) => [row.event, row.outcome, row.actor]),
        [
          ['admin_key_refused', 'failure:401:admin_key_required', 'unknown'],
          ['admin_key_refused', 'failure:403:admin_key_refused', 'unknown'],
        ],
      );

      const operator = `AdminAudit/${uniqueRunId()}`;
      const missing = await asAdminFrom(operator, 'GET', '/admin/no-such-route?x=1');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.code, 'not_found');
      const wrongMethod = await asAdminFrom(operator, 'PUT', '/admin/users');
      assert.equal(wrongMethod.status, 404);
      assert.deepEqual(
        (await auditRowsOf(operator)).map((row) => [row.event, row.outcome, row.actor]),
        [
          ['admin_request', 'failure:404:not_found', `admin:${adminKeyId}`],
          ['admin_request', 'failure:404:not_found', `admin:${adminKeyId}`],
        ],
      );
      // Outside /admin/ nothing changes: no key is asked for, nothing is audited.
      const elsewhere = `Elsewhere/${uniqueRunId()}`;
      assert.equal(
        (await client.get('/administrator', { headers: { 'user-agent': elsewhere } })).status,
        404,
      );
      assert.deepEqual(await auditRowsOf(elsewhere), []);
    });

    test('a refused key is one admin_key_refused row with IP and User-Agent, never the presented token', async () => {
      const alice = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const session = await logIn(service.baseUrl, alice);
      const revoked = await createAdminKey(service.deps.http.admin, 'revoked for the audit');
      assert.equal(
        await service.deps.http.admin.adminKeys.revokeAdminKey(revoked.adminKey.id, new Date()),
        true,
      );
      const guesser = `Guesser/${uniqueRunId()}`;
      const presented = [session, `lk_admin_${'D'.repeat(43)}`, revoked.key, `${adminKey}x`, 'not-a-key'];
      const none = await client.get('/admin/users', { headers: { 'user-agent': guesser } });
      assert.equal(none.status, 401);
      for (const bearer of presented) {
        const answer = await client.get('/admin/users', { bearer, headers: { 'user-agent': guesser } });
        assert.equal(answer.status, 403);
      }
      const rows = await auditRowsOf(guesser);
      assert.deepEqual(
        rows.map((row) => [row.event, row.outcome, row.actor, row.user_id]),
        [
          ['admin_key_refused', 'failure:401:admin_key_required', 'unknown', null],
          ...presented.map(() => ['admin_key_refused', 'failure:403:admin_key_refused', 'unknown', null]),
        ],
      );
      for (const row of rows) {
        assert.equal(row.ip, '127.0.0.1');
        assert.ok(row.request_id);
      }
      const table = JSON.stringify(await service.query('select * from audit_events'));
      for (const token of presented) assert.ok(!table.includes(token), 'no presented token is in the trail');
      assert.ok(!table.includes(adminKey), 'nor the admin key');
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

    test('an operator sees the sessions of an account with device and address, and ends one of them by its id', async () => {
      const frank = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const phone = await client.post('/login', {
        json: frank,
        headers: { 'user-agent': 'PhoneBrowser/1.0' },
      });
      const laptop = await client.post('/login', {
        json: frank,
        headers: { 'user-agent': 'LaptopBrowser/2.0' },
      });
      const phoneToken = phone.json.access_token as string;
      const laptopToken = laptop.json.access_token as string;
      const id = await userIdOf(frank.email);

      const listed = await asAdmin('GET', `/admin/users/${id}/sessions`);
      assert.equal(listed.status, 200);
      const sessions = listed.json.sessions as { id: string; user_agent: string; ip: string }[];
      assert.deepEqual(sessions.map((session) => session.user_agent).sort(), [
        'LaptopBrowser/2.0',
        'PhoneBrowser/1.0',
      ]);
      assert.ok(sessions.every((session) => session.ip !== null));
      assert.ok(
        !listed.text.includes(phoneToken) && !listed.text.includes(laptopToken),
        'no token in the list',
      );
      const owners = await client.get('/me/sessions', { bearer: laptopToken });
      assert.deepEqual(
        (owners.json as { id: string }[]).map((session) => session.id).sort(),
        sessions.map((session) => session.id).sort(),
        'the same ids as the owner sees',
      );

      const phoneSession = sessions.find((session) => session.user_agent === 'PhoneBrowser/1.0');
      assert.ok(phoneSession !== undefined);
      const ended = await client.request('DELETE', `/admin/users/${id}/sessions/${phoneSession.id}`, {
        bearer: adminKey,
      });
      assert.equal(ended.status, 204);
      assert.equal(
        (await client.get('/me', { bearer: phoneToken })).status,
        401,
        'the ended session is refused',
      );
      assert.equal((await client.get('/me', { bearer: laptopToken })).status, 200, 'the other one lives on');
      const again = await client.request('DELETE', `/admin/users/${id}/sessions/${phoneSession.id}`, {
        bearer: adminKey,
      });
      assert.equal(again.status, 404);
      assert.equal(again.json.code, 'session_not_found');
      const stranger = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const strangerId = await userIdOf(stranger.email);
      const laptopSession = sessions.find((session) => session.user_agent === 'LaptopBrowser/2.0');
      const elsewhere = await client.request(
        'DELETE',
        `/admin/users/${strangerId}/sessions/${laptopSession?.id}`,
        {
          bearer: adminKey,
        },
      );
      assert.equal(elsewhere.status, 404, "another account's session id is not found under this account");
      assert.equal((await client.get('/me', { bearer: laptopToken })).status, 200);
      const trail = await service.query<{ event: string; actor: string }>(
        `select event, actor from audit_events where user_id = $1 and event like 'admin_session%' order by occurred_at`,
        [id],
      );
      assert.deepEqual(
        trail.map((row) => row.event),
        ['admin_sessions_view', 'admin_session_end'],
      );
      assert.ok(trail.every((row) => row.actor === `admin:${adminKeyId}`));
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

    test('restore brings a deleted account back during the grace: its owner logs in again, the restore link is spent', async () => {
      const erin = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const id = await userIdOf(erin.email);
      assert.equal((await client.request('DELETE', `/admin/users/${id}`, { bearer: adminKey })).status, 202);
      const email = await service.smtp.waitForEmail(
        (candidate) => candidate.to === erin.email && /was deleted/i.test(candidate.subject),
        10_000,
      );
      const restoreLink = email.links.find((link) => new URL(link).pathname === '/restore-account');
      assert.ok(restoreLink !== undefined);
      assert.equal((await client.post('/login', { json: erin })).status, 401);

      assert.equal((await asAdmin('POST', `/admin/users/${id}/restore`)).status, 204);
      assert.equal((await client.post('/login', { json: erin })).status, 200, 'the owner logs in again');
      assert.equal((await asAdmin('GET', `/admin/users/${id}`)).json.pending_deletion, false);
      const token = new URL(restoreLink).searchParams.get('token');
      const spent = await client.post('/restore-account', { json: { token } });
      assert.equal(spent.status, 400, 'the emailed restore link no longer works');
      assert.equal(spent.json.code, 'invalid_token');
      assert.equal(
        (await asAdmin('POST', `/admin/users/${id}/restore`)).status,
        204,
        'a live account: nothing to do',
      );
      const restored = await service.query<{ actor: string }>(
        `select actor from audit_events where event = 'admin_restore' and user_id = $1`,
        [id],
      );
      assert.equal(restored.length, 1, 'one admin_restore event, the second call changed nothing');
      assert.match(restored[0]!.actor, /^admin:/);
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
