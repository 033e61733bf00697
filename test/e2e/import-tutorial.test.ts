import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { importTutorialCommand } from '../../src/cli/import-tutorial.ts';
import { uniqueRunId } from '../support/backends.ts';
import { createThrowawayDatabase } from '../support/database.ts';
import { HttpClient } from '../support/http-client.ts';
import { registerVerifiedAccount } from '../support/journeys.ts';
import { availableBackends, startTestService, type Backend } from '../support/service.ts';
import { createTutorialDatabase, type TutorialUserRow } from '../support/tutorial-database.ts';
import {
  tutorialLongPassword,
  tutorialLongPasswordSharingFirst72Bytes,
} from '../support/tutorial-password-hashes.ts';

const command = fileURLToPath(new URL('../../src/cli/admin.ts', import.meta.url));

/** Runs `npm run admin -- import-tutorial` as an operator would: a process of its own, env only. */
async function runImport(
  args: string[],
  target: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...target };
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [command, 'import-tutorial', ...args],
      {
        env,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Where Latchkey's data lives between its runs: the same embedded folder, or one PostgreSQL database. */
async function createTarget(
  backend: Backend,
): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-import-'));
  if (backend === 'embedded') {
    return {
      env: { DATA_DIR: dataDir },
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const database = await createThrowawayDatabase();
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: database.url },
    async drop() {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const password = (name: string): string => `${name} kept this passphrase from the tutorial days`;

for (const backend of availableBackends()) {
  test(`the tutorial's users, hashed by its own passlib code, log in to Latchkey with their old passwords after the import (${backend})`, async (t) => {
    const tutorial = await createTutorialDatabase();
    t.after(() => tutorial.drop());
    const target = await createTarget(backend);
    t.after(() => target.drop());
    const domain = `tutorial-${uniqueRunId()}.test`;
    const at = (local: string): string => `${local}@${domain}`;

    // Latchkey already has an account at one of the tutorial's addresses.
    const before = await startTestService(backend, target.env);
    await registerVerifiedAccount(before.baseUrl, before.smtp, {
      email: at('taken'),
      password: password('latchkey'),
    });
    await before.close();

    const seeded = await tutorial.seedUsers([
      {
        email: at('bob'),
        password: password('bob'),
        isActive: true,
        isVerified: true,
        createdAt: '2024-03-01T12:34:56.789000',
      },
      {
        email: at('long'),
        password: tutorialLongPassword,
        isActive: true,
        isVerified: true,
        checkPasswords: [tutorialLongPassword, tutorialLongPasswordSharingFirst72Bytes],
      },
      { email: at('inactive'), password: password('inactive'), isActive: false, isVerified: true },
      { email: at('unverified'), password: password('unverified'), isActive: true, isVerified: false },
      { email: `Alice@${domain}`, password: password('Alice'), isActive: true, isVerified: true },
      { email: `alice@${domain}`, password: password('alice'), isActive: true, isVerified: true },
      { email: at('taken'), password: password('tutorial'), isActive: true, isVerified: true },
      { email: 'not an address', password: password('nobody'), isActive: true, isVerified: true },
      {
        email: at('plaintext'),
        hashedPassword: 'stored-as-typed',
        isActive: true,
        isVerified: true,
      },
    ]);
    const row = (email: string): TutorialUserRow => {
      const found = seeded.find((candidate) => candidate.email === email);
      assert.ok(found, email);
      return found;
    };
    const long = row(at('long'));
    assert.match(long.hashed_password, /^\$2b\$12\$/, 'passlib wrote a $2b$ bcrypt hash');
    assert.ok(Buffer.byteLength(tutorialLongPassword) > 72);
    assert.deepEqual(
      long.verifies,
      { [tutorialLongPassword]: true, [tutorialLongPasswordSharingFirst72Bytes]: true },
      'passlib truncated the password to its first 72 bytes: both verify in the tutorial',
    );

    const snapshot = async (): Promise<string> => {
      const service = await startTestService(backend, target.env);
      try {
        const users = await service.query(
          'select id, email, email_key, password_hash, is_active, is_verified, created_at, updated_at from users order by email_key',
        );
        const mappings = await service.query(
          'select tutorial_id, user_id, imported_at from imported_tutorial_users order by tutorial_id',
        );
        return JSON.stringify({ users, mappings });
      } finally {
        await service.close();
      }
    };
    const empty = await snapshot();

    // A dry run reports everything and writes nothing.
    const dryRun = await runImport(['--from', tutorial.url, '--dry-run'], target.env);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    for (const local of ['bob', 'long', 'inactive', 'unverified']) {
      assert.match(
        dryRun.stdout,
        new RegExp(`would import tutorial user ${row(at(local)).id} <${at(local)}>`),
      );
    }
    assert.match(
      dryRun.stdout,
      /dry run, nothing written: would import 4, already imported 0, skipped 5 \(invalid_email 1, unknown_password_hash 1, address_collision 2, address_in_use 1\), of 9 tutorial users/,
    );
    assert.equal(await snapshot(), empty, 'the dry run changed nothing');

    // The import, with the id map as CSV on stdout and the report on stderr.
    const imported = await runImport(['--from', tutorial.url, '--csv'], target.env);
    assert.equal(imported.code, 0, imported.stderr);
    const upper = row(`Alice@${domain}`);
    const lower = row(`alice@${domain}`);
    assert.match(
      imported.stderr,
      new RegExp(
        `skipped tutorial user ${upper.id} <Alice@${domain}>: address_collision \\(same address as tutorial user ${lower.id}\\)`,
      ),
    );
    assert.match(
      imported.stderr,
      new RegExp(
        `skipped tutorial user ${lower.id} <alice@${domain}>: address_collision \\(same address as tutorial user ${upper.id}\\)`,
      ),
    );
    assert.match(
      imported.stderr,
      new RegExp(`skipped tutorial user ${row(at('taken')).id} <${at('taken')}>: address_in_use`),
    );
    assert.match(
      imported.stderr,
      new RegExp(`skipped tutorial user ${row('not an address').id} <not an address>: invalid_email`),
    );
    assert.match(
      imported.stderr,
      new RegExp(
        `skipped tutorial user ${row(at('plaintext')).id} <${at('plaintext')}>: unknown_password_hash`,
      ),
    );
    assert.match(
      imported.stderr,
      /imported 4, already imported 0, skipped 5 \(invalid_email 1, unknown_password_hash 1, address_collision 2, address_in_use 1\), of 9 tutorial users/,
    );
    assert.doesNotMatch(imported.stdout + imported.stderr, /\$2b\$/, 'no password hash is printed');
    const [header, ...csvLines] = imported.stdout.trim().split('\n');
    assert.equal(header, 'tutorial_id,user_id,imported_at');
    const csv = new Map(
      csvLines.map((line) => {
        const [tutorialId = '', userId = ''] = line.split(',');
        return [Number(tutorialId), userId];
      }),
    );
    assert.deepEqual(
      [...csv.keys()],
      ['bob', 'long', 'inactive', 'unverified'].map((local) => row(at(local)).id).sort((a, b) => a - b),
    );

    const afterImport = await snapshot();
    // A rerun imports nothing and changes nothing.
    const rerun = await runImport(['--from', tutorial.url], target.env);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /imported 0, already imported 4, skipped 5 .*, of 9 tutorial users/);
    assert.equal(await snapshot(), afterImport, 'the rerun changed nothing');

    const service = await startTestService(backend, target.env);
    t.after(() => service.close());
    const client = new HttpClient(service.baseUrl);
    type Account = {
      id: string;
      email: string;
      password_hash: string;
      is_active: boolean;
      is_verified: boolean;
      created_at: Date;
    };
    const account = async (email: string): Promise<Account | undefined> =>
      (
        await service.query<Account>(
          'select id, email, password_hash, is_active, is_verified, created_at from users where email = $1',
          [email],
        )
      )[0];

    const mapped = await service.query<{ tutorial_id: number; user_id: string }>(
      'select tutorial_id, user_id from imported_tutorial_users',
    );
    for (const local of ['bob', 'long', 'inactive', 'unverified']) {
      const stored = await account(at(local));
      assert.ok(stored, `${local} was imported`);
      assert.equal(
        stored.password_hash,
        row(at(local)).hashed_password,
        'the hash is kept as the tutorial stored it',
      );
      assert.equal(csv.get(row(at(local)).id), stored.id, 'the CSV maps the tutorial id to the account');
      assert.deepEqual(
        mapped.find((mapping) => mapping.tutorial_id === row(at(local)).id)?.user_id,
        stored.id,
        'the map table too',
      );
      const tutorialCreatedAt = Date.parse(`${row(at(local)).created_at}Z`);
      assert.ok(Math.abs(stored.created_at.getTime() - tutorialCreatedAt) < 1, 'created_at kept (naive UTC)');
    }
    assert.equal((await account(at('bob')))?.created_at.toISOString(), '2024-03-01T12:34:56.789Z');
    assert.equal((await account(at('inactive')))?.is_active, false);
    assert.equal((await account(at('unverified')))?.is_verified, false);
    assert.equal(await account(`Alice@${domain}`), undefined, 'a collision is never merged into one account');
    assert.equal(await account(`alice@${domain}`), undefined);
    assert.equal(await account(at('plaintext')), undefined);

    // Logins with the passwords the users typed in the tutorial.
    const bobLogin = await client.post('/login', { json: { email: at('bob'), password: password('bob') } });
    assert.equal(bobLogin.status, 200, bobLogin.text);
    const me = await client.get('/me', { bearer: bobLogin.json.access_token, cookies: false });
    assert.equal(me.json.email, at('bob'));
    assert.equal(me.json.id, csv.get(row(at('bob')).id));
    assert.match(
      (await account(at('bob')))?.password_hash ?? '',
      /^\$argon2id\$/,
      'rehashed to argon2id at the first login',
    );

    const longLogin = await client.post('/login', {
      json: { email: at('long'), password: tutorialLongPassword },
    });
    assert.equal(longLogin.status, 200, 'the whole 80-byte password, as typed in the tutorial');
    assert.match((await account(at('long')))?.password_hash ?? '', /^\$argon2id\$/);
    const prefixOnly = await client.post('/login', {
      json: { email: at('long'), password: tutorialLongPasswordSharingFirst72Bytes },
    });
    assert.equal(prefixOnly.status, 401, 'once rehashed, the first 72 bytes alone no longer do');

    const inactive = await client.post('/login', {
      json: { email: at('inactive'), password: password('inactive') },
    });
    assert.equal(inactive.status, 403);
    assert.equal(inactive.json.code, 'account_disabled');
    const unverified = await client.post('/login', {
      json: { email: at('unverified'), password: password('unverified') },
    });
    assert.equal(unverified.status, 403);
    assert.equal(unverified.json.code, 'email_not_verified');

    const taken = await client.post('/login', {
      json: { email: at('taken'), password: password('tutorial') },
    });
    assert.equal(taken.status, 401, "the tutorial's password does not open the account Latchkey already had");
    const collided = await client.post('/login', {
      json: { email: `alice@${domain}`, password: password('alice') },
    });
    assert.equal(collided.status, 401);
  });
}

test('import-tutorial refuses to run without a PostgreSQL --from, and says how to call it', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
  };
  assert.equal(await importTutorialCommand([], io), 2);
  assert.match(err.join(''), /--from needs the tutorial database's postgresql:\/\/ URL/);
  assert.equal(await importTutorialCommand(['--from', 'mysql://x/y'], io), 2);
  assert.equal(await importTutorialCommand(['--from', 'postgresql://x/y', '--merge'], io), 2);
  assert.match(err.join(''), /Unknown option '--merge'/);
  assert.equal(await importTutorialCommand(['--help'], io), 0);
  assert.match(out.join(''), /usage: import-tutorial --from/);
});

test('import-tutorial fails with exit code 1 and no password in its output when the tutorial database cannot be reached', async () => {
  const secret = `pw${uniqueRunId()}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-import-'));
  try {
    const result = await runImport(['--from', `postgresql://someone:${secret}@127.0.0.1:1/tutorial`], {
      DATA_DIR: dataDir,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /import-tutorial failed: .*ECONNREFUSED/);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(secret));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("import-tutorial refuses a database that is not the tutorial's, and writes nothing", async (t) => {
  const notTutorial = await createTutorialDatabase();
  t.after(() => notTutorial.drop());
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-import-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const result = await runImport(['--from', notTutorial.url], { DATA_DIR: dataDir });

  assert.equal(result.code, 1);
  assert.deepEqual(readdirSync(dataDir), [], "Latchkey's embedded database was not even created");
  assert.match(
    result.stderr,
    /import-tutorial failed: the database has no `users` table: is it the tutorial's\?/,
  );
});
