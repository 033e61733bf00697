import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { startLatchkey, stopAll, type LatchkeyProcess } from '../support/process.ts';

describe('the service as a process (npm start, embedded mode)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-process-'));
  const started: LatchkeyProcess[] = [];
  after(async () => {
    await stopAll(started);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>, waitUntilReady = true): Promise<LatchkeyProcess> {
    const service = await startLatchkey({ env, waitUntilReady });
    started.push(service);
    return service;
  }

  test('zero configuration: mail on the console, SIGTERM exits 0, a restart keeps users and sessions', async () => {
    const first = await start({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const env = { PORT: String(first.port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const client = new HttpClient(first.baseUrl);
    const email = 'console@example.com';
    const password = 'tangerine lighthouse quarrel 7';
    assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
    // The console transport prints the recipient, the subject and the clickable link.
    const [, token] = await first.waitForOutput(/verify-email\?token=([A-Za-z0-9_-]{43})/);
    assert.match(first.output(), /console@example\.com/);
    assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);
    const login = await client.post('/login', { json: { email, password } });
    assert.equal(login.status, 200);

    const firstExit = await first.stop();
    assert.deepEqual(firstExit, { code: 0, signal: null, forced: false }, 'a graceful stop exits 0');

    const second = await start(env);
    const me = await client.get('/me', { bearer: login.json.access_token, cookies: false });
    assert.equal(me.status, 200, 'the session survived the restart');
    assert.equal(me.json.email, email);
    assert.equal((await client.post('/login', { json: { email, password } })).status, 200);
    const secondExit = await second.stop();
    assert.equal(secondExit.code, 0);
  });

  /** Starts in production with `env`, expects exit code 1, and returns what it printed. */
  async function startRefusedInProduction(env: Record<string, string>): Promise<string> {
    const service = await start({ NODE_ENV: 'production', DATA_DIR: dataDir, ...env }, false);
    assert.equal((await service.exited).code, 1);
    return service.output();
  }

  test('production refuses a placeholder secret and lists every problem at once', async () => {
    const output = await startRefusedInProduction({
      SECRET_KEY: 'your-secret-key-change-this-in-production',
      PORT: 'not-a-port',
    });
    assert.match(output, /SECRET_KEY is a published placeholder/);
    assert.match(output, /PORT must be an integer/);
    assert.match(output, /APP_BASE_URL is required in production/);
  });

  test('production refuses a short secret', async () => {
    const output = await startRefusedInProduction({
      SECRET_KEY: 'too-short',
      APP_BASE_URL: 'https://auth.example.com',
    });
    assert.match(output, /SECRET_KEY must be at least 32 bytes/);
  });
});
