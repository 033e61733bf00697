// The verifier package in a service of its own (packages/verify/example/downstream.ts) against a running
// Latchkey: a user logs in, mints a JWT, calls the service; the keys rotate; the session is revoked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDownstream } from '../../packages/verify/test/support/downstream.ts';
import { HttpClient } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount } from '../support/journeys.ts';
import { findFreePort } from '../support/ports.ts';
import { buildLatchkeyEnv } from '../support/process.ts';
import { testOnSharedServers } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
/** How long the JWKS of a running instance may take to list a key a rotation published. */
const jwksSwitchTimeoutMilliseconds = 60_000;

interface Jwks {
  keys: { kid: string; kty: string; crv: string; x: string; alg: string; use: string; d?: string }[];
}

function decodeJwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

testOnSharedServers(
  'a downstream service verifies Latchkey JWTs with @latchkey/verify (real processes, PostgreSQL + Redis)',
  { name: 'verifier', redis: true },
  async (t, stack) => {
    const port = await findFreePort();
    const issuer = `http://127.0.0.1:${port}`;
    const latchkey = await stack.startInstance('latchkey', { port, env: { APP_BASE_URL: issuer } });
    const downstream = await startDownstream({ ISSUER: issuer });
    t.after(() => downstream.stop());
    const latchkeyClient = new HttpClient(latchkey.baseUrl);
    const callDownstream = (token: string): Promise<Response> =>
      fetch(`${downstream.url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    const readJwks = async (): Promise<Jwks> =>
      (await latchkeyClient.get('/.well-known/jwks.json')).json as Jwks;
    const mint = async (session: string): Promise<string> => {
      const answer = await latchkeyClient.post('/jwt', { bearer: session });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.token_type, 'bearer');
      return answer.json.access_token as string;
    };

    const account = await registerVerifiedAccount(latchkey.baseUrl, stack.smtp);
    const session = await logIn(latchkey.baseUrl, account);
    let firstToken = '';

    await t.test(
      'a JWT minted by POST /jwt is accepted by the downstream service, with the user in it',
      async () => {
        firstToken = await mint(session);
        const answer = await callDownstream(firstToken);
        assert.equal(answer.status, 200);
        const body = (await answer.json()) as Record<string, unknown>;
        const me = await latchkeyClient.get('/me', { bearer: session });
        assert.equal(body.user_id, me.json.id);
        assert.equal(body.email, account.email);
        assert.equal(body.email_verified, true);
        const sessions = (await latchkeyClient.get('/me/sessions', { bearer: session })).json as {
          id: string;
          current: boolean;
        }[];
        assert.equal(body.session_id, sessions.find((listed) => listed.current)?.id);
        assert.equal((await callDownstream(session)).status, 401, 'the opaque session token is no JWT');
      },
    );

    await t.test(
      'after `npm run keys -- rotate`, tokens of the old key and newly minted ones both pass',
      async () => {
        const before = await readJwks();
        await promisify(execFile)('npm', ['run', 'keys', '--', 'rotate'], {
          cwd: repositoryRoot,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            ...buildLatchkeyEnv({
              databaseUrl: stack.databaseUrl,
              smtpPort: stack.smtp.port,
              secretKey: stack.secretKey,
              extra: { APP_BASE_URL: issuer },
            }),
          },
        });
        // Published at once, or within the time instances take to switch.
        const after = await waitUntil(
          'the JWKS lists the new key',
          async () => {
            const current = await readJwks();
            return current.keys.some((key) => !before.keys.some((old) => old.kid === key.kid)) && current;
          },
          { timeoutMilliseconds: jwksSwitchTimeoutMilliseconds, intervalMilliseconds: 250 },
        );
        const added = after.keys.filter((key) => !before.keys.some((old) => old.kid === key.kid));
        assert.equal(added.length, 1, 'the rotation publishes one new key');
        assert.ok(
          before.keys.every((old) => after.keys.some((key) => key.kid === old.kid)),
          'the old key stays published during the overlap',
        );
        assert.ok(after.keys.every((key) => key.d === undefined && key.alg === 'EdDSA' && key.use === 'sig'));

        assert.equal((await callDownstream(firstToken)).status, 200, 'a token of the old key still passes');
        const minted = await mint(session);
        assert.ok(
          after.keys.some((key) => key.kid === decodeJwtPart(minted, 0).kid),
          'signed by a published key',
        );
        assert.equal((await callDownstream(minted)).status, 200);
      },
    );

    await t.test('a revoked session: its JWTs still pass until exp, and /jwt mints no more', async () => {
      const token = await mint(session);
      const logout = await latchkeyClient.post('/logout', { bearer: session });
      assert.equal(logout.status, 200, logout.text);
      assert.equal((await latchkeyClient.get('/me', { bearer: session })).status, 401);

      // The revocation bound of a JWT is its exp: the downstream service cannot know of the logout.
      assert.equal((await callDownstream(token)).status, 200);
      const { iat, exp } = decodeJwtPart(token, 1) as { iat: number; exp: number };
      assert.ok(exp > Date.now() / 1000 && exp - iat <= 900, 'still within its lifetime');

      const refused = await latchkeyClient.post('/jwt', { bearer: session });
      assert.equal(refused.status, 401, refused.text);
    });
  },
);
