import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAccountRestoreToken, deleteAccount, restoreAccount } from '../../src/flows/account-deletion.ts';
import { requestEmailChange } from '../../src/flows/email-change.ts';
import { deleteExpiredRecords } from '../../src/flows/housekeeping.ts';
import { logIn } from '../../src/flows/login.ts';
import { requestPasswordReset } from '../../src/flows/password-reset.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { findSessionByToken } from '../../src/flows/sessions.ts';
import { createMemoryExpiredRecordsStore } from '../../src/storage/memory/housekeeping.ts';
import {
  addVerifiedAccount,
  assertFlowError,
  createMemoryAccount,
  emailAddress,
  otherPassword,
  password,
  type MemoryAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';
const daySeconds = 24 * 60 * 60;

async function deleteAlice(account: MemoryAccount): Promise<string> {
  await deleteAccount(account.context, (await account.findUser(alice)).id, password);
  return account.tokenFromLatestEmail(alice, 'account_deleted');
}

async function housekeeping(account: MemoryAccount, graceDays?: number) {
  const store = createMemoryExpiredRecordsStore(account.database, account.sessions);
  return deleteExpiredRecords(store, account.clock, graceDays);
}

describe('account deletion', () => {
  test('a wrong current password is refused, changes nothing and spends the login budget', async () => {
    const account = await addVerifiedAccount();
    const userId = (await account.findUser(alice)).id;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await assertFlowError(
        deleteAccount(account.context, userId, otherPassword),
        'invalid_current_password',
      );
    }
    await assertFlowError(deleteAccount(account.context, userId, otherPassword), 'rate_limited');
    assert.equal((await account.findUser(alice)).deletedAt, null);
  });

  test('at once: every session ends, login answers as for an unknown address, a reset request sends nothing', async () => {
    const account = await addVerifiedAccount();
    const session = await logIn(account.context, emailAddress(alice), password);
    await deleteAlice(account);

    assert.equal(await findSessionByToken(account.context, session.token), null);
    const dummyBefore = account.hasher.computations.dummyVerifications;
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'invalid_credentials');
    assert.equal(account.hasher.computations.dummyVerifications, dummyBefore + 1, 'the unknown-address work');
    const emailsBefore = account.database.emails.length;
    await requestPasswordReset(account.context, alice);
    assert.equal(account.database.emails.length, emailsBefore);
  });

  test('one email with a restore link; restoring within the grace brings the account back as it was', async () => {
    const account = await addVerifiedAccount();
    const before = await account.findUser(alice);
    const restoreToken = await deleteAlice(account);
    assert.equal(account.emailsTo(alice).filter((email) => email.template === 'account_deleted').length, 1);
    account.clock.advanceSeconds(7 * daySeconds - 1);
    assert.equal(await checkAccountRestoreToken(account.context, restoreToken), true);

    await restoreAccount(account.context, restoreToken);

    const after = await account.findUser(alice);
    assert.deepEqual({ ...after, deletedAt: null }, { ...before, deletedAt: null });
    assert.equal(after.deletedAt, null);
    await logIn(account.context, emailAddress(alice), password);
    await assertFlowError(restoreAccount(account.context, restoreToken), 'invalid_token');
    assert.equal((await housekeeping(account)).accounts, 0);
  });

  test('after the grace period the restore link is dead and housekeeping removes the account, which registers as new', async () => {
    const account = await addVerifiedAccount();
    const restoreToken = await deleteAlice(account);
    account.clock.advanceSeconds(7 * daySeconds);
    assert.equal(await checkAccountRestoreToken(account.context, restoreToken), false);
    await assertFlowError(restoreAccount(account.context, restoreToken), 'invalid_token');
    account.clock.advanceSeconds(1);

    assert.equal((await housekeeping(account)).accounts, 1);

    assert.equal(await account.users.findUserByEmailKey(emailAddress(alice).key), null);
    await registerAccount(account.context, emailAddress(alice), otherPassword);
    assert.equal(account.emailsTo(alice).at(-1)?.template, 'verify_email');
  });

  test('housekeeping keeps an account deleted less than the grace ago, and with a grace of 0 removes it at once', async () => {
    const account = await addVerifiedAccount();
    await deleteAlice(account);
    account.clock.advanceSeconds(daySeconds);
    assert.equal((await housekeeping(account, 7)).accounts, 0);
    account.clock.advanceSeconds(1);
    assert.equal((await housekeeping(account, 0)).accounts, 1);
  });

  test('with a grace of 0 the email says it cannot be restored and carries no link', async () => {
    const account = createMemoryAccount({ accountDeletionGraceDays: 0 });
    await addVerifiedAccount(account);
    await deleteAccount(account.context, (await account.findUser(alice)).id, password);
    const email = account.emailsTo(alice).at(-1);
    assert.ok(email?.template === 'account_deleted');
    assert.equal(email.params.url, null);
  });

  test('registering the address during the grace answers as always and sends nothing', async () => {
    const account = await addVerifiedAccount();
    await deleteAlice(account);
    const emailsBefore = account.database.emails.length;
    await registerAccount(account.context, emailAddress(alice), otherPassword);
    assert.equal(account.database.emails.length, emailsBefore);
    await assertFlowError(logIn(account.context, emailAddress(alice), otherPassword), 'invalid_credentials');
  });

  test('moving another account to the address of a deleted one sends its owner nothing', async () => {
    const account = await addVerifiedAccount();
    await addVerifiedAccount(account, 'bob@example.test');
    await deleteAlice(account);
    const emailsToAlice = account.emailsTo(alice).length;
    await requestEmailChange(
      account.context,
      (await account.findUser('bob@example.test')).id,
      emailAddress(alice),
      password,
    );
    assert.equal(account.emailsTo(alice).length, emailsToAlice);
  });

  test('a deleted account can be deleted no further: its session is gone', async () => {
    const account = await addVerifiedAccount();
    const userId = (await account.findUser(alice)).id;
    await deleteAlice(account);
    await assertFlowError(deleteAccount(account.context, userId, password), 'not_authenticated');
  });
});
