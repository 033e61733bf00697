import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountState } from '../../src/flows/account-state.ts';
import {
  checkEmailVerificationToken,
  resendEmailVerification,
  verifyEmailAddress,
} from '../../src/flows/email-verification.ts';
import { logIn } from '../../src/flows/login.ts';
import { checkPasswordResetToken, resetPassword } from '../../src/flows/password-reset.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import {
  assertFlowError,
  createMemoryAccount,
  emailAddress,
  type MemoryAccount,
  otherPassword,
  password,
  thirdPassword,
} from './memory-account.ts';

const alice = 'alice@example.test';

/** An account whose address was registered twice with different passwords: contested, a reset link in the mailbox. */
async function createContestedAccount(): Promise<MemoryAccount> {
  const account = createMemoryAccount();
  await registerAccount(account.context, emailAddress(alice), password);
  await registerAccount(account.context, emailAddress(alice), otherPassword);
  return account;
}

describe('registration', () => {
  test('a new address gets an unverified account and one verification email, whose link verifies it', async () => {
    const account = createMemoryAccount();

    await registerAccount(account.context, emailAddress(alice), password);

    const user = await account.findUser(alice);
    assert.equal(accountState(user), 'unverified');
    assert.deepEqual(
      account.emailsTo(alice).map((email) => email.template),
      ['verify_email'],
    );
    await verifyEmailAddress(account.context, account.tokenFromLatestEmail(alice, 'verify_email'));
    assert.equal(accountState(await account.findUser(alice)), 'verified');
  });

  test('an address is one account however it is capitalised, and mail goes to it as first typed', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress('Alice@Example.test'), password);

    await registerAccount(account.context, emailAddress('ALICE@example.TEST'), password);

    const user = await account.findUser(alice);
    assert.equal(user.email, 'Alice@Example.test');
    assert.deepEqual(
      account.emailsTo('Alice@Example.test').map((email) => email.template),
      ['verify_email', 'verify_email'],
    );
    assert.deepEqual(account.emailsTo('ALICE@example.TEST'), []);
  });

  test('a password the policy refuses is refused before anything is stored or sent', async () => {
    const account = createMemoryAccount();

    await assertFlowError(
      registerAccount(account.context, emailAddress(alice), 'too short'),
      'password_too_short',
    );
    await assertFlowError(
      registerAccount(account.context, emailAddress(alice), 'passwordpassword123'),
      'password_too_common',
    );
    await assertFlowError(
      registerAccount(account.context, emailAddress(alice), 'my name is alice, let me in'),
      'password_contains_email',
    );

    assert.equal(await account.users.findUserByEmailKey(alice), null);
    assert.deepEqual(account.database.emails, []);
  });

  test('registering an unverified address again with the same password sends a fresh link, and the first still works', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);
    const first = account.tokenFromLatestEmail(alice, 'verify_email');

    await registerAccount(account.context, emailAddress(alice), password);

    const second = account.tokenFromLatestEmail(alice, 'verify_email');
    assert.notEqual(second, first);
    assert.equal(accountState(await account.findUser(alice)), 'unverified');
    assert.equal(await checkEmailVerificationToken(account.context, first), true);
    assert.equal(await checkEmailVerificationToken(account.context, second), true);
  });

  test('a second registration of an unverified address with another password contests it: no password survives, pending verification links die, the mailbox gets a reset link', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);
    const verification = account.tokenFromLatestEmail(alice, 'verify_email');

    await registerAccount(account.context, emailAddress(alice), otherPassword);

    const user = await account.findUser(alice);
    assert.equal(accountState(user), 'contested');
    assert.equal(user.passwordHash, null);
    assert.equal(account.emailsTo(alice).at(-1)?.template, 'already_registered');
    await assertFlowError(verifyEmailAddress(account.context, verification), 'invalid_token');
    for (const attempt of [password, otherPassword]) {
      await assertFlowError(logIn(account.context, emailAddress(alice), attempt), 'invalid_credentials');
    }
    const emailsBefore = account.emailsTo(alice).length;
    await resendEmailVerification(account.context, alice);
    assert.equal(account.emailsTo(alice).length, emailsBefore, 'resend sent something');
  });

  test('a contested address registered again with any password gets a new reset link, and the older one stops working', async () => {
    const account = await createContestedAccount();
    const older = account.tokenFromLatestEmail(alice, 'already_registered');

    await registerAccount(account.context, emailAddress(alice), password);

    const newer = account.tokenFromLatestEmail(alice, 'already_registered');
    assert.equal(accountState(await account.findUser(alice)), 'contested');
    assert.equal(await checkPasswordResetToken(account.context, older), false);
    assert.equal(await checkPasswordResetToken(account.context, newer), true);
  });

  test('only the reset link sent to the mailbox settles a contested address: it sets the password and verifies it', async () => {
    const account = await createContestedAccount();

    await resetPassword(
      account.context,
      account.tokenFromLatestEmail(alice, 'already_registered'),
      thirdPassword,
    );

    assert.equal(accountState(await account.findUser(alice)), 'verified');
    const session = await logIn(account.context, emailAddress(alice), thirdPassword);
    assert.equal(session.user.email, alice);
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'invalid_credentials');
  });

  test('registering a verified address changes nothing on the account and emails a reset link', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);
    await verifyEmailAddress(account.context, account.tokenFromLatestEmail(alice, 'verify_email'));
    const before = await account.findUser(alice);

    await registerAccount(account.context, emailAddress(alice), otherPassword);

    assert.deepEqual(await account.findUser(alice), before);
    const reset = account.tokenFromLatestEmail(alice, 'already_registered');
    assert.equal(await checkPasswordResetToken(account.context, reset), true);
    assert.equal((await logIn(account.context, emailAddress(alice), password)).user.id, before.id);
  });

  test('every path costs one password computation, so the answer takes as long whether or not the address is taken', async () => {
    const account = createMemoryAccount();
    const computations = (): number =>
      account.hasher.computations.hashes +
      account.hasher.computations.verifications +
      account.hasher.computations.dummyVerifications;
    const cases = [
      ['a new address', password],
      ['an unverified address, same password', password],
      ['an unverified address, another password', otherPassword],
      ['a contested address', thirdPassword],
    ] as const;

    for (const [label, attempt] of cases) {
      const before = computations();
      await registerAccount(account.context, emailAddress(alice), attempt);
      assert.equal(computations() - before, 1, label);
    }
  });
});
