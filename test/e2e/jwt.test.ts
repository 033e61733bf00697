import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { hashToken } from '../../src/security/tokens.ts';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, readEmailedToken, uniqueEmail } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import { waitUntil } from '../support/wait.ts';

const runFile = promisify(execFile);
const audience = 'https://api.example.test';
const lifetimeSeconds = 120;
const jwksMaxAgeSeconds = 42;

interface Account {
  readonly email: string;
  readonly password: string;
}

async function registerVerified(service: TestService): Promise<Account> {
  const account = { email: uniqueEmail('jwt'), password: generatePassword() };
  const client = new HttpClient(service.baseUrl);
  assert.equal((await client.post('/register', { json: account })).status, 200);
  const token = await readEmailedToken(service.smtp, account.email, '/verify-email');
  assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);
  return account;
}

async function logIn(baseUrl: string, account: Account): Promise<string> {
  const answer = await new HttpClient(baseUrl).post('/login', { json: account, cookies: false });
  assert.equal(answer.status, 200, answer.text);
  return answer.json.access_token as string;
}

async function mint(baseUrl: string, sessionToken: string): Promise<string> {
  const answer = await new HttpClient(baseUrl).post('/jwt', { bearer: sessionToken });
  assert.equal(answer.status, 200, answer.text);
  return answer.json.access_token as string;
}

for (const backend of availableBackends()) {
  describe(`signed JWTs for downstream services (${backend})`, () => {
    let service: TestService;
    let issuer: string;
    before(async () => {
      service = await startTestService(backend, {
        JWT_AUDIENCE: audience,
        JWT_EXPIRE_SECONDS: String(lifetimeSeconds),
        JWT_JWKS_MAX_AGE_SECONDS: String(jwksMaxAgeSeconds),
      });
      issuer = new URL(service.baseUrl).origin;
    });
    after(async () => {
      await service?.close();
    });

    function verifier(): ReturnType<typeof createRemoteJWKSet> {
      return createRemoteJWKSet(new URL('/.well-known/jwks.json', service.baseUrl));
    }

    async function verify(token: string): Promise<JWTPayload> {
      const { payload } = await jwtVerify(token, verifier(), {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms: ['EdDSA'],
      });
      return payload;
    }

    test('a bearer session mints a JWT that verifies against the served JWKS with every claim as documented', async () => {
      const account = await registerVerified(service);
      const sessionToken = await logIn(service.baseUrl, account);
      const client = new HttpClient(service.baseUrl);
      const before_ = Math.floor(Date.now() / 1000);
      const answer = await client.post('/jwt', { bearer: sessionToken });
      const after_ = Math.ceil(Date.now() / 1000);

      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      assert.deepEqual(Object.keys(answer.json).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(answer.json.token_type, 'bearer');
      assert.equal(answer.json.expires_in, lifetimeSeconds);

      const token = answer.json.access_token as string;
      const header = decodeProtectedHeader(token);
      assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
      assert.equal(header.alg, 'EdDSA');
      assert.equal(header.typ, 'at+jwt');

      const claims = await verify(token);
      const me = await client.get('/me', { bearer: sessionToken });
      const sessions = await client.get('/me/sessions', { bearer: sessionToken });
      const current = (sessions.json as { id: string; current: boolean }[]).find((entry) => entry.current);
      assert.deepEqual(Object.keys(claims).sort(), [
        'aud',
        'email',
        'email_verified',
        'exp',
        'iat',
        'iss',
        'jti',
        'sid',
        'sub',
      ]);
      assert.equal(claims.iss, issuer);
      assert.equal(claims.aud, audience);
      assert.equal(claims.sub, me.json.id);
      assert.equal(claims.email, account.email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.sid, current?.id, 'sid is the public session id of /me/sessions');
      assert.ok(claims.iat !== undefined && claims.iat >= before_ && claims.iat <= after_);
      assert.equal(claims.exp, (claims.iat ?? 0) + lifetimeSeconds, 'exp agrees with expires_in');
      // No secret rides in the token: not the session token, not its hash.
      const payloadText = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');
      assert.ok(!payloadText.includes(sessionToken) && !payloadText.includes(hashToken(sessionToken)));

      const again = await mint(service.baseUrl, sessionToken);
      assert.notEqual((await verify(again)).jti, claims.jti, 'every JWT has its own jti');
    });

    test('the JWKS lists public members only, with kid, alg and use, and is cacheable for its max-age', async () => {
      const answer = await new HttpClient(service.baseUrl).get('/.well-known/jwks.json');
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('cache-control'), `public, max-age=${jwksMaxAgeSeconds}`);
      const keys = answer.json.keys as Record<string, unknown>[];
      assert.ok(keys.length >= 1);
      for (const key of keys) {
        assert.deepEqual(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
        assert.equal(key.d, undefined);
        assert.deepEqual([key.kty, key.crv, key.alg, key.use], ['OKP', 'Ed25519', 'EdDSA', 'sig']);
      }
      // The key that signs is the one listed.
      const account = await registerVerified(service);
      const token = await mint(service.baseUrl, await logIn(service.baseUrl, account));
      assert.ok(keys.some((key) => key.kid === decodeProtectedHeader(token).kid));
    });

    test('the session cookie mints too, from the same site; a cross-site cookie POST is refused', async () => {
      const account = await registerVerified(service);
      const browser = new HttpClient(service.baseUrl);
      assert.equal((await browser.post('/login', { json: account })).status, 200);
      assert.ok(browser.cookies.has('session_id'));

      const sameSite = await browser.post('/jwt', { headers: { origin: issuer } });
      assert.equal(sameSite.status, 200, sameSite.text);
      assert.equal((await verify(sameSite.json.access_token as string)).email, account.email);

      const crossSite = await browser.post('/jwt', { headers: { origin: 'https://evil.example' } });
      assert.equal(crossSite.status, 403);
      assert.equal(crossSite.json.code, 'csrf_refused');
      const fetchMetadata = await browser.post('/jwt', { headers: { 'sec-fetch-site': 'cross-site' } });
      assert.equal(fetchMetadata.status, 403);
    });

    test('a revoked, unknown or missing session mints nothing: 401 like /me', async () => {
      const account = await registerVerified(service);
      const sessionToken = await logIn(service.baseUrl, account);
      const client = new HttpClient(service.baseUrl);
      assert.equal((await client.post('/logout', { bearer: sessionToken })).status, 200);

      const revoked = await client.post('/jwt', { bearer: sessionToken });
      assert.equal(revoked.status, 401);
      assert.equal(revoked.json.code, 'not_authenticated');
      const unknown = await client.post('/jwt', { bearer: 'A'.repeat(43) });
      assert.equal(unknown.status, 401);
      const missing = await client.post('/jwt');
      assert.equal(missing.status, 401);
      // A JWT is not a session: it mints nothing either.
      const other = await mint(service.baseUrl, await logIn(service.baseUrl, account));
      assert.equal((await client.post('/jwt', { bearer: other })).status, 401);
    });

    test('minted JWTs are counted in the metrics', async () => {
      const metrics = async (): Promise<number> => {
        const text = (await new HttpClient(service.baseUrl).get('/metrics')).text;
        return Number(/^latchkey_jwts_minted_total (\d+)/m.exec(text)?.[1]);
      };
      const before_ = await metrics();
      const account = await registerVerified(service);
      await mint(service.baseUrl, await logIn(service.baseUrl, account));
      assert.equal(await metrics(), before_ + 1);
    });
  });
}

for (const backend of availableBackends()) {
  describe(`the clean-up rotates the signing key when it is JWT_KEY_ROTATION_DAYS old, and deletes keys out of the JWKS (${backend})`, () => {
    let service: TestService;
    let stopHousekeeping: (() => Promise<void>) | undefined;
    before(async () => {
      service = await startTestService(backend, {
        CLEANUP_INTERVAL_SECONDS: '1',
        JWT_KEY_ROTATION_DAYS: '2',
        JWT_KEY_RELOAD_SECONDS: '1',
      });
      // The clean-up loop as src/main.ts starts it (the test service starts only the mail delivery).
      stopHousekeeping = service.deps.startHousekeeping();
    });
    after(async () => {
      await stopHousekeeping?.();
      await service?.close();
    });

    test('a key one day old stays; two days old, one pass publishes its successor; an unpublished key is deleted', async () => {
      type Row = { kid: string; generation: number };
      const keys = (): Promise<Row[]> =>
        service.query<Row>('select kid, generation from jwt_signing_keys order by generation');
      const [first] = await keys();
      assert.ok(first);
      await service.query(
        "update jwt_signing_keys set created_at = now() - interval '1 day', signing_starts_at = now() - interval '1 day'",
      );
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal((await keys()).length, 1, 'not rotated before it is due');

      await service.query(
        "update jwt_signing_keys set created_at = now() - interval '2 days', signing_starts_at = now() - interval '2 days'",
      );
      const rotated = await waitUntil(
        'the clean-up rotates',
        async () => {
          const found = await keys();
          return found.length === 2 ? found : null;
        },
        { timeoutMilliseconds: 10_000 },
      );
      assert.deepEqual(
        rotated.map((key) => key.generation),
        [1, 2],
      );
      const published = await waitUntil(
        'the new key is in the JWKS',
        async () => {
          const kids = (
            (await new HttpClient(service.baseUrl).get('/.well-known/jwks.json')).json.keys as {
              kid: string;
            }[]
          ).map((key) => key.kid);
          return kids.includes(rotated[1]?.kid ?? '') ? kids : null;
        },
        { timeoutMilliseconds: 10_000, intervalMilliseconds: 200 },
      );
      assert.ok(published.includes(first.kid), 'the signing key stays published');

      // Later on: the successor signs, and the old key's last tokens have expired.
      await service.query(
        "update jwt_signing_keys set signing_starts_at = now() - interval '10 minutes' where generation = 2",
      );
      await service.query(
        "update jwt_signing_keys set signing_ends_at = now() - interval '10 minutes', published_until = now() - interval '1 second' where generation = 1",
      );
      await waitUntil('the clean-up deletes the unpublished key', async () => (await keys()).length === 1, {
        timeoutMilliseconds: 10_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.deepEqual(
        (await keys()).map((key) => key.generation),
        [2],
      );
    });
  });
}

/** `npm run keys -- <args>` as a process on `service`'s database, with its configuration. */
async function runKeysCli(
  service: TestService,
  args: readonly string[],
): Promise<{ readonly stdout: string; readonly stderr: string }> {
  const { stdout, stderr } = await runFile(process.execPath, ['src/cli/keys.ts', ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: service.config.database.url ?? '',
      DATA_DIR: service.config.dataDir,
      SECRET_KEY: service.config.secretKey,
      JWT_JWKS_MAX_AGE_SECONDS: String(service.config.jwt.jwksMaxAgeSeconds),
      JWT_KEY_RELOAD_SECONDS: String(service.config.jwt.keyReloadSeconds),
      JWT_EXPIRE_SECONDS: String(service.config.jwt.lifetimeSeconds),
    },
  });
  return { stdout, stderr };
}

for (const backend of availableBackends().filter((name) => name === 'postgres+redis')) {
  describe('key rotation with two instances on one database and a verifier that cached the JWKS before it', () => {
    // Short on purpose: max-age 2 s, reload 1 s, so a key is published 2 + 1 + 5 = 8 s before it signs.
    const timing = {
      JWT_JWKS_MAX_AGE_SECONDS: '2',
      JWT_KEY_RELOAD_SECONDS: '1',
      JWT_EXPIRE_SECONDS: '30',
    };
    let first: TestService;
    let second: TestService;
    before(async () => {
      first = await startTestService(backend, timing);
      second = await startTestService(backend, {
        ...timing,
        DATABASE_URL: first.config.database.url ?? '',
        REDIS_KEY_PREFIX: first.config.redis?.keyPrefix ?? '',
        SECRET_KEY: first.config.secretKey,
      });
    });
    after(async () => {
      await second?.close();
      await first?.close();
    });

    test('tokens of both instances verify across the switch, and both switch at the published time', async () => {
      const issuer = (service: TestService): string => new URL(service.baseUrl).origin;
      const firstJwks = (await new HttpClient(first.baseUrl).get('/.well-known/jwks.json')).json;
      const secondJwks = (await new HttpClient(second.baseUrl).get('/.well-known/jwks.json')).json;
      assert.deepEqual(secondJwks, firstJwks, 'the instances share one key');
      const oldKid = (firstJwks.keys as { kid: string }[])[0]?.kid;

      const account = await registerVerified(first);
      const sessionToken = await logIn(first.baseUrl, account);
      // A downstream service that honours the JWKS max-age and, to prove the lead time alone suffices, never
      // refetches early for an unknown kid.
      const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', first.baseUrl), {
        cacheMaxAge: 2_000,
        cooldownDuration: 10 * 60_000,
      });
      const verify = async (token: string, service: TestService): Promise<void> => {
        await jwtVerify(token, jwks, { issuer: issuer(service), audience: issuer(service), typ: 'at+jwt' });
      };
      const beforeRotation = await mint(first.baseUrl, sessionToken);
      await verify(beforeRotation, first);

      const rotated = await runKeysCli(first, ['rotate']);
      const [row] = await first.query<{ kid: string; signing_starts_at: Date }>(
        'select kid, signing_starts_at from jwt_signing_keys order by generation desc limit 1',
      );
      assert.ok(row);
      assert.notEqual(row.kid, oldKid);
      assert.match(rotated.stdout, new RegExp(`rotated: key ${row.kid} `));
      const switchAt = row.signing_starts_at.getTime();
      assert.ok(switchAt - Date.now() >= 7_000, 'the new key signs at least max-age + reload after');

      const again = await runKeysCli(first, ['rotate']);
      assert.match(again.stdout, /not rotated/, 'a pending rotation is not repeated');

      const minted: { kid: string; startedMs: number; endedMs: number }[] = [];
      let turn = 0;
      while (Date.now() < switchAt + 3_000) {
        const service = turn++ % 2 === 0 ? first : second;
        const startedMs = Date.now();
        const token = await mint(service.baseUrl, sessionToken);
        const endedMs = Date.now();
        await verify(token, service);
        minted.push({ kid: String(decodeProtectedHeader(token).kid), startedMs, endedMs });
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      for (const token of minted) {
        if (token.endedMs < switchAt) assert.equal(token.kid, oldKid, 'signed before the switch time');
        if (token.startedMs >= switchAt) assert.equal(token.kid, row.kid, 'signed after the switch time');
      }
      assert.ok(minted.some((token) => token.kid === row.kid));
      // A token of the retired key still verifies: it stays in the JWKS for its lifetime and a max-age.
      await verify(beforeRotation, first);
      const keys = (await new HttpClient(second.baseUrl).get('/.well-known/jwks.json')).json.keys as {
        kid: string;
      }[];
      assert.deepEqual(keys.map((key) => key.kid).sort(), [oldKid, row.kid].sort());

      const listed = await runKeysCli(first, ['list']);
      assert.match(listed.stdout, new RegExp(`${row.kid}\\s+2\\s+signing`));
      assert.match(listed.stdout, new RegExp(`${oldKid}\\s+1\\s+retired`));
      const [sealed] = await first.query<{ sealed_private_key: string }>(
        'select sealed_private_key from jwt_signing_keys where kid = $1',
        [row.kid],
      );
      assert.ok(sealed && !listed.stdout.includes(sealed.sealed_private_key));
      assert.doesNotMatch(listed.stdout, /PRIVATE KEY|"d"/);
    });

    test('`npm run keys` refuses an unknown command with its usage', async () => {
      await assert.rejects(runKeysCli(first, ['spin']), (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? '', /usage: npm run keys -- rotate \| list/);
        return true;
      });
    });
  });
}

for (const backend of availableBackends().filter((name) => name === 'postgres+redis')) {
  describe('an instance started with another SECRET_KEY on the same database', () => {
    let first: TestService;
    let changed: TestService;
    before(async () => {
      first = await startTestService(backend, { JWT_KEY_RELOAD_SECONDS: '1' });
      // Every test service gets a SECRET_KEY of its own: this one cannot open the first one's key.
      changed = await startTestService(backend, {
        JWT_KEY_RELOAD_SECONDS: '1',
        DATABASE_URL: first.config.database.url ?? '',
        REDIS_KEY_PREFIX: first.config.redis?.keyPrefix ?? '',
      });
    });
    after(async () => {
      await changed?.close();
      await first?.close();
    });

    test('crashes nothing: it logs the key once, signs with a fresh key, and both sides mint JWTs that verify', async () => {
      assert.notEqual(changed.config.secretKey, first.config.secretKey);
      // Several reloads on both sides.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const keys = await first.query<{ kid: string }>('select kid from jwt_signing_keys order by generation');
      assert.equal(keys.length, 2, 'one fresh key, not one per reload');
      const [oldKid, freshKid] = keys.map((key) => key.kid);
      const reported = changed.logLines.filter((line) =>
        line.includes('cannot be opened with this SECRET_KEY'),
      );
      assert.equal(reported.length, 1, 'reported once');
      assert.ok(reported[0]?.includes(oldKid ?? '-'));

      const account = await registerVerified(first);
      const sessionToken = await logIn(first.baseUrl, account);
      for (const [service, kid] of [
        [first, oldKid],
        [changed, freshKid],
      ] as const) {
        const token = await mint(service.baseUrl, sessionToken);
        assert.equal(decodeProtectedHeader(token).kid, kid);
        for (const jwksFrom of [first, changed]) {
          const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', jwksFrom.baseUrl));
          const issuer = new URL(service.baseUrl).origin;
          await jwtVerify(token, jwks, { issuer, audience: issuer, typ: 'at+jwt' });
        }
        assert.equal((await new HttpClient(service.baseUrl).get('/health/ready')).status, 200);
      }
    });
  });
}

for (const backend of availableBackends().filter((name) => name === 'postgres+redis')) {
  describe('an instance whose SECRET_KEY rotated with the old key in SECRET_KEY_PREVIOUS', () => {
    let first: TestService;
    let rotated: TestService;
    before(async () => {
      first = await startTestService(backend, { JWT_KEY_RELOAD_SECONDS: '1' });
      rotated = await startTestService(backend, {
        JWT_KEY_RELOAD_SECONDS: '1',
        DATABASE_URL: first.config.database.url ?? '',
        REDIS_KEY_PREFIX: first.config.redis?.keyPrefix ?? '',
        SECRET_KEY_PREVIOUS: first.config.secretKey ?? '',
      });
    });
    after(async () => {
      await rotated?.close();
      await first?.close();
    });

    test('keeps signing with the stored key: no fresh key, nothing reported, its JWTs verify', async () => {
      assert.notEqual(rotated.config.secretKey, first.config.secretKey);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const keys = await first.query<{ kid: string }>('select kid from jwt_signing_keys order by generation');
      assert.equal(keys.length, 1, 'no fresh key was needed');
      assert.equal(
        rotated.logLines.filter((line) => line.includes('cannot be opened with this SECRET_KEY')).length,
        0,
      );
      const account = await registerVerified(first);
      const token = await mint(rotated.baseUrl, await logIn(first.baseUrl, account));
      assert.equal(decodeProtectedHeader(token).kid, keys[0]?.kid);
      const issuer = new URL(rotated.baseUrl).origin;
      const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', first.baseUrl));
      await jwtVerify(token, jwks, { issuer, audience: issuer, typ: 'at+jwt' });
    });
  });
}
