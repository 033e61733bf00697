import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readOrCreateDevelopmentSecret, resolveSecretKey } from '../../src/composition/secret-key.ts';

const parent = mkdtempSync(join(tmpdir(), 'latchkey-secret-'));
after(() => rmSync(parent, { recursive: true, force: true }));

describe('the development secret', () => {
  test('is created once in DATA_DIR, private to the user, and read back on every later start', () => {
    const dataDir = join(parent, 'one', 'data');
    const secret = resolveSecretKey({ secretKey: undefined, dataDir });
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(readFileSync(join(dataDir, 'secret-key'), 'utf8'), secret);
    assert.equal(statSync(join(dataDir, 'secret-key')).mode & 0o777, 0o600);
    assert.equal(resolveSecretKey({ secretKey: undefined, dataDir }), secret);
    assert.deepEqual(readdirSync(dataDir), ['secret-key'], 'no draft file is left behind');
  });

  test('SECRET_KEY wins, and nothing is written then', () => {
    const dataDir = join(parent, 'two');
    assert.equal(resolveSecretKey({ secretKey: 'configured', dataDir }), 'configured');
    assert.throws(() => readdirSync(dataDir), { code: 'ENOENT' });
  });

  test('processes starting at once all end up with the same secret', async () => {
    const dataDir = join(parent, 'three');
    const moduleUrl = new URL('../../src/composition/secret-key.ts', import.meta.url).href;
    const script = `const { readOrCreateDevelopmentSecret } = await import(${JSON.stringify(moduleUrl)});
      process.stdout.write(readOrCreateDevelopmentSecret(${JSON.stringify(dataDir)}));`;
    const secrets = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const code = await new Promise((resolve) => child.on('exit', resolve));
        assert.equal(code, 0);
        return output;
      }),
    );
    const secret = readOrCreateDevelopmentSecret(dataDir);
    assert.deepEqual(
      secrets,
      Array.from({ length: 6 }, () => secret),
    );
  });
});
