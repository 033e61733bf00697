import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { UserStore } from '../../src/flows/ports.ts';
import { describeContract } from './describe-contract.ts';

export interface UserStoreUnderTest {
  readonly store: UserStore;
  close(): Promise<void>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The UserStore port's rules; every adapter runs them. One store serves the whole suite (a database takes
 * seconds to create), so each test works on addresses of its own.
 */
export function describeUserStoreContract(
  adapterName: string,
  createStore: () => Promise<UserStoreUnderTest>,
): void {
  describeContract(`UserStore contract: ${adapterName}`, createStore, 'suite', (underTest) => {
    const store = (): UserStore => underTest().store;

    /** A new address nobody else in the suite uses, typed with capitals as users do; the key is lower case. */
    function newAddress(): { email: string; emailKey: string } {
      const local = `User.${randomUUID()}`;
      return { email: `${local}@Example.test`, emailKey: `${local}@example.test`.toLowerCase() };
    }

    /** What the password rules change: the stored hash and whether the address counts as verified. */
    async function passwordStateOf(
      userId: string,
    ): Promise<{ passwordHash: string | null | undefined; isVerified: boolean | undefined }> {
      const user = await store().findUserById(userId);
      return { passwordHash: user?.passwordHash, isVerified: user?.isVerified };
    }

    async function insertNewUser(passwordHash = 'hash-1'): Promise<string> {
      const user = await store().insertUser({ ...newAddress(), passwordHash });
      assert.ok(user, 'insertUser returned null for a fresh address');
      return user.id;
    }

    test('a new user is active and unverified, with the address as typed, its key and its hash', async () => {
      const address = newAddress();
      const startedAtMs = Date.now();

      const user = await store().insertUser({ ...address, passwordHash: 'hash-1' });

      assert.ok(user);
      assert.match(user.id, uuidPattern);
      assert.equal(user.email, address.email);
      assert.equal(user.emailKey, address.emailKey);
      assert.equal(user.passwordHash, 'hash-1');
      assert.equal(user.isActive, true);
      assert.equal(user.isVerified, false);
      assert.ok(user.createdAt instanceof Date);
      // Database and test share a clock here; allow a little slack either way.
      assert.ok(
        Math.abs(user.createdAt.getTime() - startedAtMs) < 60_000,
        `createdAt ${user.createdAt.toISOString()}`,
      );
    });

    test('a new user is found by its address key and by its id, exactly as insertUser returned it', async () => {
      const user = await store().insertUser({ ...newAddress(), passwordHash: 'hash-1' });
      assert.ok(user);

      assert.deepEqual(await store().findUserByEmailKey(user.emailKey), user);
      assert.deepEqual(await store().findUserById(user.id), user);
    });

    test('a user keeps the locale it registered with; one registered without has none (DEFAULT_LOCALE)', async () => {
      const german = await store().insertUser({ ...newAddress(), passwordHash: 'hash-1', locale: 'de' });
      const unstated = await store().insertUser({ ...newAddress(), passwordHash: 'hash-1' });
      assert.ok(german && unstated);

      assert.equal(german.locale, 'de');
      assert.equal((await store().findUserById(german.id))?.locale, 'de');
      assert.equal((await store().findUserByEmailKey(german.emailKey))?.locale, 'de');
      assert.equal(unstated.locale, null);
      assert.equal((await store().findUserById(unstated.id))?.locale, null);
    });

    test('a second user with a taken address key is refused with null, not an error, and the first is kept', async () => {
      const address = newAddress();
      const first = await store().insertUser({ ...address, passwordHash: 'hash-first' });
      assert.ok(first);

      const second = await store().insertUser({
        email: address.email.toUpperCase(),
        emailKey: address.emailKey,
        passwordHash: 'hash-second',
      });

      assert.equal(second, null);
      assert.deepEqual(await store().findUserByEmailKey(address.emailKey), first);
    });

    test('an unknown address key or user id finds no user', async () => {
      assert.equal(await store().findUserByEmailKey(newAddress().emailKey), null);
      assert.equal(await store().findUserById(randomUUID()), null);
    });

    test('markUserVerified verifies that user and no other', async () => {
      const userId = await insertNewUser();
      const otherUserId = await insertNewUser();

      await store().markUserVerified(userId);

      assert.equal((await store().findUserById(userId))?.isVerified, true);
      assert.equal((await store().findUserById(otherUserId))?.isVerified, false);
    });

    test('setUserPasswordHash replaces the hash and leaves the user unverified unless told to verify', async () => {
      const userId = await insertNewUser('hash-old');

      await store().setUserPasswordHash(userId, 'hash-new');

      assert.deepEqual(await passwordStateOf(userId), { passwordHash: 'hash-new', isVerified: false });
    });

    test('setUserPasswordHash with markVerified also verifies the user, since a reset proved the mailbox', async () => {
      const userId = await insertNewUser('hash-old');

      await store().setUserPasswordHash(userId, 'hash-new', { markVerified: true });

      assert.deepEqual(await passwordStateOf(userId), { passwordHash: 'hash-new', isVerified: true });
    });

    test('setUserPasswordHash without markVerified never un-verifies a verified user', async () => {
      const userId = await insertNewUser('hash-old');
      await store().markUserVerified(userId);

      await store().setUserPasswordHash(userId, 'hash-new', { markVerified: false });

      assert.equal((await store().findUserById(userId))?.isVerified, true);
    });

    test('setUserPasswordHash with null removes the password, so the account has none until a reset', async () => {
      const userId = await insertNewUser('hash-old');

      await store().setUserPasswordHash(userId, null);

      const user = await store().findUserById(userId);
      assert.ok(user);
      assert.equal(user.passwordHash, null);
      assert.equal(user.isActive, true);
    });

    test('setUserPasswordHash changes only that user', async () => {
      const userId = await insertNewUser('hash-shared');
      const otherUserId = await insertNewUser('hash-shared');

      await store().setUserPasswordHash(userId, 'hash-new', { markVerified: true });

      assert.deepEqual(await passwordStateOf(otherUserId), {
        passwordHash: 'hash-shared',
        isVerified: false,
      });
    });

    test('replaceUserPasswordHash replaces the hash while it is still the one the caller read', async () => {
      const userId = await insertNewUser('hash-bcrypt');

      await store().replaceUserPasswordHash(userId, 'hash-bcrypt', 'hash-argon2');

      assert.equal((await store().findUserById(userId))?.passwordHash, 'hash-argon2');
    });

    test('a login rehash never overwrites a password reset that landed after the login read the hash', async () => {
      const userId = await insertNewUser('hash-read-by-login');
      await store().setUserPasswordHash(userId, 'hash-from-reset', { markVerified: true });

      await store().replaceUserPasswordHash(userId, 'hash-read-by-login', 'hash-rehashed-old-password');

      assert.equal((await store().findUserById(userId))?.passwordHash, 'hash-from-reset');
    });

    test('replaceUserPasswordHash never sets a hash on an account whose password was removed', async () => {
      const userId = await insertNewUser('hash-read-by-login');
      await store().setUserPasswordHash(userId, null);

      await store().replaceUserPasswordHash(userId, 'hash-read-by-login', 'hash-rehashed');

      assert.equal((await store().findUserById(userId))?.passwordHash, null);
    });

    test('100 concurrent registrations of one address create exactly one user, and none throws', async () => {
      const address = newAddress();

      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => store().insertUser({ ...address, passwordHash: `hash-${i}` })),
      );

      const created = results.filter((user) => user !== null);
      assert.equal(created.length, 1, `${created.length} users created`);
      assert.deepEqual(await store().findUserByEmailKey(address.emailKey), created[0]);
    });

    test('changeUserEmail moves the account to a free address: found by the new key, no longer by the old', async () => {
      const userId = await insertNewUser();
      const before = await store().lockUserById(userId);
      assert.ok(before);
      const target = newAddress();

      assert.equal(await store().changeUserEmail(userId, target.email, target.emailKey), true);

      assert.equal(await store().findUserByEmailKey(before.emailKey), null);
      const after = await store().findUserByEmailKey(target.emailKey);
      assert.equal(after?.id, userId);
      assert.equal(after?.email, target.email);
      assert.equal(after?.passwordHash, before.passwordHash);
    });

    test('changeUserEmail to a taken address answers false and changes nothing; two racing for one address, one wins', async () => {
      const [first, second] = [await insertNewUser(), await insertNewUser()];
      const firstUser = await store().findUserById(first);
      assert.ok(firstUser);
      assert.equal(await store().changeUserEmail(second, firstUser.email, firstUser.emailKey), false);
      assert.equal((await store().findUserByEmailKey(firstUser.emailKey))?.id, first);

      const target = newAddress();
      const results = await Promise.all(
        [first, second].map((userId) => store().changeUserEmail(userId, target.email, target.emailKey)),
      );
      assert.deepEqual(
        results.filter((moved) => moved),
        [true],
      );
    });

    test('lockUserById finds the user, or null for an unknown id', async () => {
      const userId = await insertNewUser();
      assert.equal((await store().lockUserById(userId))?.id, userId);
      assert.equal(await store().lockUserById(randomUUID()), null);
    });

    test('markUserDeleted marks the account deleted at that moment; restoreUser undoes it once', async () => {
      const userId = await insertNewUser();
      const at = new Date(Math.floor(Date.now() / 1000) * 1000);
      assert.equal(await store().restoreUser(userId), false, 'an account never deleted');

      await store().markUserDeleted(userId, at);

      assert.equal((await store().findUserById(userId))?.deletedAt?.getTime(), at.getTime());
      assert.equal(await store().restoreUser(userId), true);
      assert.equal((await store().findUserById(userId))?.deletedAt, null);
      assert.equal(await store().restoreUser(userId), false);
    });

    test("setUserLocale changes the account's language and no other account's; false for an unknown id", async () => {
      const userId = await insertNewUser();
      const otherId = await insertNewUser();
      assert.equal((await store().findUserById(userId))?.locale, null);

      assert.equal(await store().setUserLocale(userId, 'de'), true);
      assert.equal((await store().findUserById(userId))?.locale, 'de');
      assert.equal((await store().findUserById(otherId))?.locale, null);
      assert.equal(await store().setUserLocale(userId, 'en'), true);
      assert.equal((await store().findUserById(userId))?.locale, 'en');
      assert.equal(await store().setUserLocale(randomUUID(), 'de'), false);
    });
  });
}
