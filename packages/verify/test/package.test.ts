// The package as another project installs it: built to JavaScript + declarations, imported from node_modules
// where Node strips no types, and type-checked by a consumer with stock strict settings.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeIssuer } from './support/issuer.ts';

const packageDirectory = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const manifest = JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
};

function packageRoot(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

describe('the built package, installed in another project', () => {
  let project: string;
  let installed: string;
  let issuer: FakeIssuer;

  before(async () => {
    issuer = await FakeIssuer.start();
    project = mkdtempSync(join(tmpdir(), 'latchkey-verify-consumer-'));
    installed = join(project, 'node_modules', '@latchkey', 'verify');
    mkdirSync(installed, { recursive: true });
    execFileSync(process.execPath, [
      tsc,
      '-p',
      join(packageDirectory, 'tsconfig.build.json'),
      '--outDir',
      join(installed, 'dist'),
    ]);
    cpSync(join(packageDirectory, 'package.json'), join(installed, 'package.json'));
    for (const dependency of ['jose', 'fastify'])
      symlinkSync(packageRoot(dependency), join(project, 'node_modules', dependency));
    mkdirSync(join(project, 'node_modules', '@types'));
    symlinkSync(packageRoot('@types/node'), join(project, 'node_modules', '@types', 'node'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  });
  after(async () => {
    rmSync(project, { recursive: true, force: true });
    await issuer.close();
  });

  test('the manifest: Node >= 22, jose pinned exactly, every export built', () => {
    assert.equal(manifest.engines.node, '>=22');
    assert.match(manifest.dependencies.jose ?? '', /^\d+\.\d+\.\d+$/);
    const built = readdirSync(join(installed, 'dist'));
    assert.ok(
      !built.some((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
      'no TypeScript to strip at run time',
    );
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      for (const file of typeof target === 'string' ? [target] : [target.types, target.default]) {
        assert.doesNotThrow(() => readFileSync(join(installed, file)), `${subpath} -> ${file}`);
      }
    }
  });

  test('plain JavaScript imports it without type stripping and verifies a token', async () => {
    writeFileSync(
      join(project, 'consumer.mjs'),
      `import { createVerifier, VerificationError } from '@latchkey/verify';
import { latchkeyAuth } from '@latchkey/verify/fastify';
import { createLatchkeyMiddleware } from '@latchkey/verify/connect';
const verifier = createVerifier({ issuer: process.env.ISSUER });
const claims = await verifier.verify(process.env.TOKEN);
const refused = await verifier.verify('opaque').catch((error) => error instanceof VerificationError && error.code);
console.log(JSON.stringify({ email: claims.email, refused, plugin: typeof latchkeyAuth, middleware: typeof createLatchkeyMiddleware }));
`,
    );
    // Asynchronous: the fake issuer in this process must answer the consumer's JWKS fetch.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--no-experimental-strip-types', 'consumer.mjs'],
      {
        cwd: project,
        env: { PATH: process.env.PATH ?? '', ISSUER: issuer.url, TOKEN: await issuer.mint() },
        encoding: 'utf8',
      },
    );
    assert.deepEqual(JSON.parse(stdout), {
      email: 'ada@example.com',
      refused: 'token_invalid',
      plugin: 'function',
      middleware: 'function',
    });
  });

  test('a TypeScript consumer type-checks against the shipped declarations (no skipLibCheck)', () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { createVerifier, VerificationError, type LatchkeyClaims } from '@latchkey/verify';
import { latchkeyAuth } from '@latchkey/verify/fastify';
import fastify from 'fastify';
const app = fastify();
void app.register(latchkeyAuth, { verifier: createVerifier({ issuer: 'https://auth.example.com' }) });
app.get('/', async (request) => {
  const claims: LatchkeyClaims | null = request.auth;
  return { email: claims?.email, verified: claims?.email_verified };
});
export const code: VerificationError['code'] = 'jwks_unavailable';
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
  });
});
