import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import { readEmailedToken, registerVerifiedAccount } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

// Each test speaks from addresses of its own (TRUST_PROXY=1), so one test's requests never spend another's
// per-IP budget; the /token budget is the service's default unless a test says otherwise.
const budgets = [
  'ip.register=1000/60',
  'ip.verify_email=1000/60',
  'ip.login=1000/60',
  'ip.request_password_reset=1000/60',
  'ip.reset_password=1000/60',
  'ip.token=25/60',
  'recipient.email.hour=1000/3600',
  'recipient.email.day=1000/86400',
].join(',');
// Short enough to wait out, long enough for twenty racing requests on a loaded machine.
const graceSeconds = 3;

let addressCounter = 0;
function nextClientAddress(): string {
  addressCounter += 1;
  return `198.51.100.${addressCounter}`;
}

interface Pair {
  readonly accessToken: string;
  readonly refreshToken: string;
}

for (const backend of availableBackends()) {
  describe(`refresh tokens (${backend})`, () => {
    let service: TestService;
    let client: HttpClient;
    before(async () => {
      service = await startTestService(backend, {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMITS: budgets,
        TRUST_PROXY: '1',
        REFRESH_REUSE_GRACE_SECONDS: String(graceSeconds),
      });
      client = new HttpClient(service.baseUrl);
    });
    after(async () => {
      await service?.close();
    });

    async function logInWithRefreshToken(
      account: { email: string; password: string },
      ip = nextClientAddress(),
    ): Promise<Pair> {
      const answer = await client.post('/login', {
        json: { ...account, refresh_token: true },
        headers: { 'x-forwarded-for': ip },
        cookies: false,
      });
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.json.refresh_token, /^[A-Za-z0-9_-]{43}$/);
      return { accessToken: answer.json.access_token, refreshToken: answer.json.refresh_token };
    }

    function refresh(
      refreshToken: string,
      options: { form?: boolean; ip?: string } = {},
    ): Promise<HttpAnswer> {
      const body = { grant_type: 'refresh_token', refresh_token: refreshToken };
      return client.post('/token', {
        ...(options.form === true ? { form: body } : { json: body }),
        headers: { 'x-forwarded-for': options.ip ?? nextClientAddress() },
        cookies: false,
      });
    }

    async function refreshed(
      refreshToken: string,
      options: { form?: boolean; ip?: string } = {},
    ): Promise<Pair> {
      const answer = await refresh(refreshToken, options);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      assert.equal(answer.json.token_type, 'bearer');
      assert.equal(answer.json.expires_in, service.config.sessions.lifetimeMinutes * 60);
      return { accessToken: answer.json.access_token, refreshToken: answer.json.refresh_token };
    }

    async function meStatus(accessToken: string): Promise<number> {
      return (await client.get('/me', { bearer: accessToken, cookies: false })).status;
    }

    async function assertRefused(refreshToken: string): Promise<void> {
      const answer = await refresh(refreshToken);
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.json.code, 'invalid_grant');
      assert.equal(answer.headers.get('cache-control'), 'no-store');
    }

    async function newAccount(): Promise<{ email: string; password: string }> {
      return registerVerifiedAccount(service.baseUrl, service.smtp);
    }

    test('a login without refresh_token gets none', async () => {
      const account = await newAccount();
      const answer = await client.post('/login', { json: account, cookies: false });
      assert.equal(answer.status, 200);
      assert.equal('refresh_token' in answer.json, false);
    });

    test('/token as JSON and as a form gives a session that works on /me and /logout, and a rotated token', async () => {
      const account = await newAccount();
      const first = await logInWithRefreshToken(account);
      const viaJson = await refreshed(first.refreshToken);
      assert.notEqual(viaJson.refreshToken, first.refreshToken);
      const me = await client.get('/me', { bearer: viaJson.accessToken, cookies: false });
      assert.equal(me.status, 200);
      assert.equal(me.json.email, account.email);

      const viaForm = await refreshed(viaJson.refreshToken, { form: true });
      assert.equal(await meStatus(viaForm.accessToken), 200);
      const logout = await client.post('/logout', { bearer: viaForm.accessToken, cookies: false });
      assert.equal(logout.status, 200);
      assert.equal(await meStatus(viaForm.accessToken), 401);
      // Logging out ended the family: its current refresh token and every session it minted.
      await assertRefused(viaForm.refreshToken);
      assert.equal(await meStatus(first.accessToken), 401);
      assert.equal(await meStatus(viaJson.accessToken), 401);
    });

    test('bad requests: unsupported grant, missing fields, unknown token; all 400 in the house error body', async () => {
      const ip = nextClientAddress();
      const post = (json: unknown) => client.post('/token', { json, headers: { 'x-forwarded-for': ip } });
      const unsupported = await post({ grant_type: 'password', refresh_token: 'x' });
      assert.equal(unsupported.status, 400);
      assert.equal(unsupported.json.code, 'unsupported_grant_type');
      const missingToken = await post({ grant_type: 'refresh_token' });
      assert.equal(missingToken.status, 400);
      assert.deepEqual(missingToken.json, {
        code: 'invalid_request',
        detail: 'body: field "refresh_token" is required',
      });
      const missingGrant = await post({ refresh_token: 'x' });
      assert.equal(missingGrant.status, 400);
      assert.equal(missingGrant.json.code, 'invalid_request');
      const mistyped = await post({ grant_type: 'refresh_token', refresh_token: 42 });
      assert.equal(mistyped.status, 400);
      assert.equal(mistyped.json.code, 'invalid_request');
      const unknown = await post({ grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json.code, 'invalid_grant');
    });

    test('the predecessor within the grace answers the same pair; after it, reuse ends the family', async () => {
      const account = await newAccount();
      const first = await logInWithRefreshToken(account);
      const current = await refreshed(first.refreshToken);
      assert.deepEqual(await refreshed(first.refreshToken), current);

      await new Promise((resolve) => setTimeout(resolve, graceSeconds * 1000 + 200));
      const replay = await refresh(first.refreshToken);
      assert.equal(replay.status, 400);
      assert.equal(replay.json.code, 'invalid_grant');
      // The family's current session and token are dead too.
      assert.equal(await meStatus(current.accessToken), 401);
      await assertRefused(current.refreshToken);
      const reuseLines = service.logLines.filter((line) => line.includes('"event":"refresh_token_reuse"'));
      assert.ok(reuseLines.length >= 1, 'the reuse is logged as a security event');
      const metrics = await service.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^latchkey_refresh_token_reuse_total [1-9]/m);
    });

    test('twenty concurrent refreshes of one token: all 200 with one identical pair, one live token after', async () => {
      const account = await newAccount();
      const ip = nextClientAddress();
      const first = await logInWithRefreshToken(account, ip);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => refresh(first.refreshToken, { ip })),
      );
      assert.deepEqual(
        answers.map((answer) => answer.status),
        answers.map(() => 200),
      );
      const pairs = new Set(
        answers.map((answer) => `${answer.json.access_token} ${answer.json.refresh_token}`),
      );
      assert.equal(pairs.size, 1);
      const [answer] = answers;
      assert.ok(answer);
      assert.equal(await meStatus(answer.json.access_token), 200);

      const live = await service.query<{ live: number }>(
        `select count(*)::int as live from refresh_tokens t join refresh_families f on f.id = t.family_id
         where f.generation = t.generation and f.revoked_at is null
           and f.user_id = (select id from users where email = $1)`,
        [account.email],
      );
      assert.equal(live[0]?.live, 1);
      // And that one token rotates on.
      await refreshed(answer.json.refresh_token);
    });

    test('a password change ends the other families and keeps the one it was made from', async () => {
      const account = await newAccount();
      const mine = await refreshed((await logInWithRefreshToken(account)).refreshToken);
      const theirs = await logInWithRefreshToken(account);
      const change = await client.post('/me/password', {
        bearer: mine.accessToken,
        cookies: false,
        json: { current_password: account.password, new_password: `${account.password}-changed` },
      });
      assert.equal(change.status, 200, change.text);
      await assertRefused(theirs.refreshToken);
      assert.equal(await meStatus(theirs.accessToken), 401);
      const next = await refreshed(mine.refreshToken);
      assert.equal(await meStatus(next.accessToken), 200);
    });

    test('a password reset through the emailed link ends every family', async () => {
      const account = await newAccount();
      const pair = await refreshed((await logInWithRefreshToken(account)).refreshToken);
      const requested = await client.post('/request-password-reset', { json: { email: account.email } });
      assert.equal(requested.status, 202);
      const token = await readEmailedToken(service.smtp, account.email, '/reset-password');
      const reset = await client.post('/reset-password', {
        json: { token, new_password: `${account.password}-reset` },
      });
      assert.equal(reset.status, 200, reset.text);
      await assertRefused(pair.refreshToken);
      assert.equal(await meStatus(pair.accessToken), 401);
    });

    test('no pair minted by a refresh in flight when logout answered works afterwards', async () => {
      const account = await newAccount();
      for (let round = 0; round < 5; round++) {
        const start = await refreshed((await logInWithRefreshToken(account)).refreshToken);
        const ip = nextClientAddress();
        const [logout, ...answers] = await Promise.all([
          client.post('/logout', { bearer: start.accessToken, cookies: false }),
          ...Array.from({ length: 8 }, () => refresh(start.refreshToken, { ip })),
        ]);
        assert.equal(logout?.status, 200);
        for (const answer of answers) {
          assert.ok(answer.status === 200 || answer.status === 400, answer.text);
          if (answer.status !== 200) continue;
          assert.equal(
            await meStatus(answer.json.access_token),
            401,
            `round ${round}: a minted session lives`,
          );
          await assertRefused(answer.json.refresh_token);
        }
        await assertRefused(start.refreshToken);
      }
    });

    test('per-IP and per-family budgets answer 429 with Retry-After', async () => {
      const account = await newAccount();
      const ip = nextClientAddress();
      const perIp = await Promise.all(Array.from({ length: 26 }, () => refresh('B'.repeat(43), { ip })));
      const refusedByIp = perIp.filter((answer) => answer.status === 429);
      assert.equal(refusedByIp.length, 1);
      assert.ok(Number(refusedByIp[0]?.headers.get('retry-after')) > 0);
      assert.equal(refusedByIp[0]?.json.code, 'rate_limited');

      // 30 refreshes per family and minute: the 31st is refused, from any address.
      let current = await logInWithRefreshToken(account);
      for (let i = 0; i < 30; i++) current = await refreshed(current.refreshToken);
      const refused = await refresh(current.refreshToken);
      assert.equal(refused.status, 429, refused.text);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
    });
  });
}
