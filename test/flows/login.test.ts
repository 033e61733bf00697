import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noAttemptBudgets } from '../../src/flows/attempt-budgets.ts';
import { logIn } from '../../src/flows/login.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { findSessionByToken } from '../../src/flows/sessions.ts';
import {
  assertFlowError,
  createMemoryAccount,
  emailAddress,
  legacyHashOf,
  otherPassword,
  password,
  sessionLifetimeSeconds,
  type MemoryAccount,
  addVerifiedAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';

/** `times` refused logins to `address`, each refused as a wrong password is. */
async function failLogins(
  account: MemoryAccount,
  address: string,
  times: number,
  attempt = otherPassword,
): Promise<void> {
  for (let round = 1; round <= times; round++) {
    await assertFlowError(logIn(account.context, emailAddress(address), attempt), 'invalid_credentials');
  }
}

describe('login', () => {
  test('a verified account logs in with the right password and gets a session for sessionLifetimeSeconds', async () => {
    const account = await addVerifiedAccount();

    const result = await logIn(account.context, emailAddress('Alice@Example.TEST'), password);

    assert.equal(result.expiresInSeconds, sessionLifetimeSeconds);
    assert.equal(result.user.email, alice);
    const session = await findSessionByToken(account.context, result.token);
    assert.equal(session?.userId, result.user.id);
    assert.equal(session?.isVerified, true);
  });

  test('a wrong password and an unknown address fail alike, each after one password check', async () => {
    const account = await addVerifiedAccount();
    const { computations } = account.hasher;
    const checks = (): number => computations.verifications + computations.dummyVerifications;

    let before = checks();
    await assertFlowError(logIn(account.context, emailAddress(alice), otherPassword), 'invalid_credentials');
    assert.equal(checks() - before, 1);
    before = checks();
    await assertFlowError(
      logIn(account.context, emailAddress('nobody@example.test'), password),
      'invalid_credentials',
    );
    assert.equal(checks() - before, 1);
  });

  test('an unverified account with the right password is refused with email_not_verified and sent a fresh link', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);

    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'email_not_verified');

    assert.equal(account.emailsTo(alice).length, 2);
    assert.equal(account.emailsTo(alice)[1]?.template, 'verify_email');
  });

  test('an unverified account with a wrong password is refused as any wrong password is, and sent nothing', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);

    await assertFlowError(logIn(account.context, emailAddress(alice), otherPassword), 'invalid_credentials');

    assert.equal(account.emailsTo(alice).length, 1);
  });

  test('a disabled account is refused with account_disabled, and only with the right password', async () => {
    const account = await addVerifiedAccount();
    await account.users.setUserActive((await account.findUser(alice)).id, false);

    await assertFlowError(logIn(account.context, emailAddress(alice), otherPassword), 'invalid_credentials');
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'account_disabled');
  });

  test('the 6th wrong password for one account within a minute is refused with rate_limited, and so is the right one after it', async () => {
    const account = await addVerifiedAccount();

    await failLogins(account, alice, 5);
    await assert.rejects(logIn(account.context, emailAddress(alice), otherPassword), (error: unknown) => {
      const { code, retryAfterSeconds } = error as { code: string; retryAfterSeconds: number };
      assert.equal(code, 'rate_limited');
      assert.ok(retryAfterSeconds >= 1 && retryAfterSeconds <= 60, `retry after ${retryAfterSeconds}`);
      return true;
    });
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'rate_limited');
  });

  test('a refused attempt costs no password check, so guessing on a spent budget does no work', async () => {
    const account = await addVerifiedAccount();
    await failLogins(account, alice, 5);
    const before = account.hasher.computations.verifications;

    await assertFlowError(logIn(account.context, emailAddress(alice), otherPassword), 'rate_limited');

    assert.equal(account.hasher.computations.verifications, before);
  });

  test('a success gives back only its own point: failures before it stay counted', async () => {
    const account = await addVerifiedAccount();
    await failLogins(account, alice, 4);

    await logIn(account.context, emailAddress(alice), password);

    await assertFlowError(logIn(account.context, emailAddress(alice), otherPassword), 'invalid_credentials');
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'rate_limited');
  });

  test("one account's spent login budget leaves other addresses alone, known or not", async () => {
    const account = await addVerifiedAccount();
    await addVerifiedAccount(account, 'bob@example.test');
    for (let attempt = 1; attempt <= 6; attempt++) {
      await logIn(account.context, emailAddress(alice), otherPassword).catch(() => {});
    }

    await logIn(account.context, emailAddress('bob@example.test'), password);
    await assertFlowError(
      logIn(account.context, emailAddress('nobody@example.test'), password),
      'invalid_credentials',
    );
  });

  test('an unknown address spends a budget exactly as a known one does, so refusals tell nothing', async () => {
    const account = createMemoryAccount();

    await failLogins(account, 'nobody@example.test', 5, password);

    await assertFlowError(
      logIn(account.context, emailAddress('nobody@example.test'), password),
      'rate_limited',
    );
  });

  test('a legacy hash is replaced at the first successful login, and the password still works', async () => {
    const account = await addVerifiedAccount(createMemoryAccount({ budgets: noAttemptBudgets }));
    const user = await account.findUser(alice);
    await account.users.setUserPasswordHash(user.id, legacyHashOf(password));

    await logIn(account.context, emailAddress(alice), password);

    const rehashed = (await account.findUser(alice)).passwordHash;
    assert.ok(rehashed?.startsWith('cheap$'), `hash ${rehashed}`);
    await logIn(account.context, emailAddress(alice), password);
  });
});
