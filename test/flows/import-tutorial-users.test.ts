import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  importTutorialUsers,
  type TutorialImportEvent,
  type TutorialImportSummary,
} from '../../src/flows/import-tutorial-users.ts';
import type { TutorialUser, TutorialUserSource } from '../../src/flows/ports.ts';
import { MemoryDatabase } from '../../src/storage/memory/database.ts';
import {
  MemoryTutorialImportStore,
  MemoryTutorialUserSource,
} from '../../src/storage/memory/tutorial-import.ts';
import { MemoryUserStore } from '../../src/storage/memory/user-store.ts';

/** A bcrypt hash as passlib writes it (the import checks its shape; logins check the password). */
const passlibHash = '$2b$12$rNIrtnCFx/9fgHIyxzCuputfqaDeDMS1rJETrAf15olbweopEGV8i';
const now = new Date('2026-11-30T12:00:00.000Z');

function tutorialUser(id: number, email: string, overrides: Partial<TutorialUser> = {}): TutorialUser {
  return {
    id,
    email,
    hashedPassword: passlibHash,
    isActive: true,
    isVerified: true,
    createdAt: new Date('2024-03-01T12:34:56.000Z'),
    ...overrides,
  };
}

async function runImport(
  database: MemoryDatabase,
  source: TutorialUserSource,
  options: { dryRun?: boolean; batchSize?: number } = {},
): Promise<{ summary: TutorialImportSummary; events: TutorialImportEvent[] }> {
  const events: TutorialImportEvent[] = [];
  const summary = await importTutorialUsers({
    source,
    store: new MemoryTutorialImportStore(database),
    dryRun: options.dryRun ?? false,
    now: () => now,
    onEvent: (event) => events.push(event),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
  });
  return { summary, events };
}

const noSkips = { invalid_email: 0, unknown_password_hash: 0, address_collision: 0, address_in_use: 0 };

describe('importing the tutorial users', () => {
  test('addresses that are one mailbox once normalised are both skipped, also when they are pages apart', async () => {
    const database = new MemoryDatabase();
    const source = new MemoryTutorialUserSource([
      tutorialUser(1, 'Alice@example.test'),
      tutorialUser(2, 'bob@example.test'),
      tutorialUser(3, 'carol@example.test'),
      tutorialUser(4, 'dave@example.test'),
      tutorialUser(5, 'alice@EXAMPLE.test'),
    ]);

    const { summary, events } = await runImport(database, source, { batchSize: 2 });

    assert.deepEqual(summary.skipped, { ...noSkips, address_collision: 2 });
    assert.equal(summary.imported, 3);
    assert.deepEqual(
      events.filter((event) => event.kind === 'skipped'),
      [
        {
          kind: 'skipped',
          tutorialId: 1,
          email: 'Alice@example.test',
          reason: 'address_collision',
          collidesWith: [5],
        },
        {
          kind: 'skipped',
          tutorialId: 5,
          email: 'alice@EXAMPLE.test',
          reason: 'address_collision',
          collidesWith: [1],
        },
      ],
    );
    assert.equal(await new MemoryUserStore(database).findUserByEmailKey('alice@example.test'), null);
  });

  test('flags, hash and creation time are kept; a row without a creation time gets the time of the import', async () => {
    const database = new MemoryDatabase();
    await runImport(
      database,
      new MemoryTutorialUserSource([
        tutorialUser(7, 'Off@example.test', { isActive: false, isVerified: false, createdAt: null }),
      ]),
    );

    const user = await new MemoryUserStore(database).findUserByEmailKey('off@example.test');
    assert.ok(user);
    assert.equal(user.email, 'Off@example.test', 'mail goes to the address as the tutorial stored it');
    assert.equal(user.passwordHash, passlibHash);
    assert.equal(user.isActive, false);
    assert.equal(user.isVerified, false);
    assert.equal(user.createdAt.toISOString(), now.toISOString());
  });

  test('rows that cannot become an account are reported and skipped: bad address, unknown hash, address in use', async () => {
    const database = new MemoryDatabase();
    await new MemoryUserStore(database).insertUser({
      email: 'Taken@example.test',
      emailKey: 'taken@example.test',
      passwordHash: 'argon2id-hash',
    });
    const { summary, events } = await runImport(
      database,
      new MemoryTutorialUserSource([
        tutorialUser(1, 'Display Name <x@example.test>'),
        tutorialUser(2, 'plain@example.test', { hashedPassword: 'secret-as-typed' }),
        tutorialUser(3, 'short@example.test', { hashedPassword: '$2b$12$tooShort' }),
        tutorialUser(4, 'taken@example.test'),
        tutorialUser(5, 'fine@example.test'),
      ]),
    );

    assert.deepEqual(summary.skipped, {
      invalid_email: 1,
      unknown_password_hash: 2,
      address_collision: 0,
      address_in_use: 1,
    });
    assert.deepEqual(
      events.map((event) => [event.tutorialId, event.kind === 'skipped' ? event.reason : 'imported']),
      [
        [1, 'invalid_email'],
        [2, 'unknown_password_hash'],
        [3, 'unknown_password_hash'],
        [4, 'address_in_use'],
        [5, 'imported'],
      ],
    );
    assert.equal(
      (await new MemoryUserStore(database).findUserByEmailKey('taken@example.test'))?.passwordHash,
      'argon2id-hash',
      'the account Latchkey had is untouched',
    );
  });

  test('a dry run reports what an import would do and writes nothing', async () => {
    const database = new MemoryDatabase();
    const source = new MemoryTutorialUserSource([
      tutorialUser(1, 'a@example.test'),
      tutorialUser(2, 'A@example.test'),
      tutorialUser(3, 'b@example.test'),
    ]);

    const dryRun = await runImport(database, source, { dryRun: true });
    assert.equal(database.users.rows().length, 0);
    assert.deepEqual(await new MemoryTutorialImportStore(database).listTutorialUserMappings(0, 10), []);

    const real = await runImport(database, source);
    assert.deepEqual(dryRun.events, real.events);
    assert.deepEqual({ ...dryRun.summary, dryRun: false }, real.summary);
  });

  test('a rerun imports nothing and changes nothing, also for an imported account deleted since', async () => {
    const database = new MemoryDatabase();
    const source = new MemoryTutorialUserSource([
      tutorialUser(1, 'one@example.test'),
      tutorialUser(2, 'two@example.test'),
    ]);
    await runImport(database, source);
    const deleted = await new MemoryUserStore(database).findUserByEmailKey('two@example.test');
    assert.ok(deleted);
    database.users.delete(deleted.emailKey, undefined);
    const before = JSON.stringify(database.users.rows());

    const { summary, events } = await runImport(database, source);

    assert.deepEqual(summary, { dryRun: false, read: 2, imported: 0, alreadyImported: 2, skipped: noSkips });
    assert.deepEqual(events, []);
    assert.equal(JSON.stringify(database.users.rows()), before);
  });

  test('100,000 users are read a page at a time, never all at once', async () => {
    const rows = Array.from({ length: 100_000 }, (_, index) =>
      tutorialUser(index + 1, `user${index + 1}@example.test`),
    );
    const memory = new MemoryTutorialUserSource(rows);
    let largestPage = 0;
    const source: TutorialUserSource = {
      async readTutorialUsers(afterId, limit) {
        const page = await memory.readTutorialUsers(afterId, limit);
        largestPage = Math.max(largestPage, page.length);
        return page;
      },
    };
    const database = new MemoryDatabase();

    const { summary } = await runImport(database, source);

    assert.equal(summary.imported, 100_000);
    assert.equal(database.users.rows().length, 100_000);
    assert.equal(largestPage, 1000);
  });
});
