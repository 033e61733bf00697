import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { ImportedAccount, TutorialImportStore, UserStore } from '../../src/flows/ports.ts';
import { describeContract } from './describe-contract.ts';

export interface TutorialImportStoreUnderTest {
  readonly store: TutorialImportStore;
  /** The accounts the import creates, as login sees them. */
  readonly users: UserStore;
  /** Removes an account for good, as housekeeping does after a deletion's grace period. */
  deleteUser(userId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The TutorialImportStore port's rules; every adapter runs them. One store serves the whole suite, so each
 * test uses tutorial ids and addresses of its own.
 */
export function describeTutorialImportStoreContract(
  adapterName: string,
  createStore: () => Promise<TutorialImportStoreUnderTest>,
): void {
  describeContract(`TutorialImportStore contract: ${adapterName}`, createStore, 'suite', (underTest) => {
    const store = (): TutorialImportStore => underTest().store;
    let nextTutorialId = 1;

    function newAccount(overrides: Partial<ImportedAccount> = {}): ImportedAccount {
      const local = `Tutorial.${randomUUID()}`;
      return {
        tutorialId: nextTutorialId++,
        email: `${local}@Example.test`,
        emailKey: `${local}@example.test`.toLowerCase(),
        passwordHash: '$2b$12$abcdefghijklmnopqrstuv',
        isActive: true,
        isVerified: true,
        createdAt: new Date('2024-03-01T12:34:56.789Z'),
        ...overrides,
      };
    }

    test('an imported account keeps the hash, flags and creation time, and its tutorial id maps to it', async () => {
      const active = newAccount();
      const disabled = newAccount({ isActive: false, isVerified: false });
      const importedAt = new Date('2026-01-02T03:04:05.006Z');

      const result = await store().insertImportedAccounts([active, disabled], importedAt);

      assert.deepEqual(result.notInserted, []);
      assert.equal(result.inserted.length, 2);
      for (const account of [active, disabled]) {
        const user = await underTest().users.findUserByEmailKey(account.emailKey);
        assert.ok(user);
        assert.equal(user.email, account.email);
        assert.equal(user.passwordHash, account.passwordHash);
        assert.equal(user.isActive, account.isActive);
        assert.equal(user.isVerified, account.isVerified);
        assert.equal(user.createdAt.toISOString(), account.createdAt.toISOString());
        const [mapping] = await store().listTutorialUserMappings(account.tutorialId - 1, 1);
        assert.deepEqual(mapping, { tutorialId: account.tutorialId, userId: user.id, importedAt });
      }
      assert.deepEqual(
        await store().findImportedTutorialIds([active.tutorialId, disabled.tutorialId, nextTutorialId + 100]),
        new Set([active.tutorialId, disabled.tutorialId]),
      );
    });

    test('an address already taken is not imported and maps nothing; the rest of the batch is', async () => {
      const existing = newAccount();
      const taken = await underTest().users.insertUser({
        email: existing.email,
        emailKey: existing.emailKey,
        passwordHash: 'argon-hash',
      });
      assert.ok(taken);
      const fresh = newAccount();
      assert.deepEqual(
        await store().findTakenEmailKeys([existing.emailKey, fresh.emailKey]),
        new Set([existing.emailKey]),
      );

      const result = await store().insertImportedAccounts([existing, fresh], new Date());

      assert.deepEqual(result.notInserted, [existing.tutorialId]);
      assert.deepEqual(
        result.inserted.map((mapping) => mapping.tutorialId),
        [fresh.tutorialId],
      );
      assert.equal(
        (await underTest().users.findUserByEmailKey(existing.emailKey))?.passwordHash,
        'argon-hash',
      );
      assert.deepEqual(await store().findImportedTutorialIds([existing.tutorialId]), new Set());
    });

    test('a tutorial id imported before is never imported a second time, under another address either', async () => {
      const first = newAccount();
      await store().insertImportedAccounts([first], new Date());
      const again = newAccount({ tutorialId: first.tutorialId });

      const result = await store().insertImportedAccounts([again], new Date());

      assert.deepEqual(result.notInserted, [first.tutorialId]);
      assert.equal(await underTest().users.findUserByEmailKey(again.emailKey), null);
    });

    test("the map row of an imported account that was deleted stays, without the account's id", async () => {
      const account = newAccount();
      const { inserted } = await store().insertImportedAccounts([account], new Date());
      const userId = inserted[0]?.userId;
      assert.ok(userId);

      await underTest().deleteUser(userId);

      const [mapping] = await store().listTutorialUserMappings(account.tutorialId - 1, 1);
      assert.equal(mapping?.tutorialId, account.tutorialId);
      assert.equal(mapping?.userId, null);
      assert.deepEqual(
        await store().findImportedTutorialIds([account.tutorialId]),
        new Set([account.tutorialId]),
      );
    });

    test('the map is listed a page at a time, by tutorial id', async () => {
      const accounts = [newAccount(), newAccount(), newAccount()];
      await store().insertImportedAccounts([...accounts].reverse(), new Date());
      const start = (accounts[0]?.tutorialId ?? 0) - 1;

      const firstPage = await store().listTutorialUserMappings(start, 2);
      const secondPage = await store().listTutorialUserMappings(firstPage[1]?.tutorialId ?? 0, 2);

      assert.deepEqual(
        [...firstPage, ...secondPage].map((mapping) => mapping.tutorialId).slice(0, 3),
        accounts.map((account) => account.tutorialId),
      );
    });
  });
}
