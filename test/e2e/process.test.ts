import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HttpClient } from '../support/http-client.ts';
import { findFreePort } from '../support/service.ts';

const mainScript = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

interface RunningService {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function startService(env: Record<string, string>): RunningService {
  const child = spawn(process.execPath, [mainScript], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitUntilAnswering(baseUrl: string, service: RunningService): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`service exited:\n${service.output()}`);
    try {
      if ((await fetch(`${baseUrl}/health/live`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`service did not answer:\n${service.output()}`);
}

async function waitForOutput(service: RunningService, pattern: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const match = pattern.exec(service.output());
    if (match !== null) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in output:\n${service.output()}`);
}

describe('the service as a process (npm start, embedded mode)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-process-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('zero configuration: mail on the console, SIGTERM exits 0, a restart keeps users and sessions', async () => {
    const port = await findFreePort();
    const baseUrl = `http://localhost:${port}`;
    const env = { PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const first = startService(env);
    await waitUntilAnswering(baseUrl, first);
    const client = new HttpClient(baseUrl);
    const email = 'console@example.com';
    const password = 'console password 1';
    assert.equal((await client.post('/register', { json: { email, password } })).status, 200);
    // The console transport prints the recipient, the subject and the clickable link.
    const [, token] = await waitForOutput(first, /verify-email\?token=([A-Za-z0-9_-]{43})/);
    assert.match(first.output(), /console@example\.com/);
    assert.equal((await client.post('/verify-email', { json: { token } })).status, 200);
    const login = await client.post('/login', { json: { email, password } });
    assert.equal(login.status, 200);

    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, 'a graceful stop exits 0');

    const second = startService(env);
    try {
      await waitUntilAnswering(baseUrl, second);
      const me = await client.get('/me', { bearer: login.json.access_token, cookies: false });
      assert.equal(me.status, 200, 'the session survived the restart');
      assert.equal(me.json.email, email);
      assert.equal((await client.post('/login', { json: { email, password } })).status, 200);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
  });

  test('production refuses a placeholder secret and lists every problem at once', async () => {
    const service = startService({
      NODE_ENV: 'production',
      SECRET_KEY: 'your-secret-key-change-this-in-production',
      PORT: 'not-a-port',
      DATA_DIR: dataDir,
    });
    assert.equal(await service.exited, 1);
    const output = service.output();
    assert.match(output, /SECRET_KEY is a published placeholder/);
    assert.match(output, /PORT must be an integer/);
    assert.match(output, /APP_BASE_URL is required in production/);
  });

  test('production refuses a short secret', async () => {
    const service = startService({
      NODE_ENV: 'production',
      SECRET_KEY: 'too-short',
      APP_BASE_URL: 'https://auth.example.com',
      DATA_DIR: dataDir,
    });
    assert.equal(await service.exited, 1);
    assert.match(service.output(), /SECRET_KEY must be at least 32 bytes/);
  });
});
