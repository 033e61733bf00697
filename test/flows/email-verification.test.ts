import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountState } from '../../src/flows/account-state.ts';
import {
  checkEmailVerificationToken,
  resendEmailVerification,
  verifyEmailAddress,
} from '../../src/flows/email-verification.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { emailVerificationTokenLifetimeSeconds } from '../../src/flows/token-emails.ts';
import { generateToken } from '../../src/security/tokens.ts';
import {
  assertFlowError,
  createMemoryAccount,
  emailAddress,
  otherPassword,
  password,
} from './memory-account.ts';

const alice = 'alice@example.test';

async function registered(): Promise<{ account: ReturnType<typeof createMemoryAccount>; token: string }> {
  const account = createMemoryAccount();
  await registerAccount(account.context, emailAddress(alice), password);
  return { account, token: account.tokenFromLatestEmail(alice, 'verify_email') };
}

describe('email verification', () => {
  test('a verification link works until 24 hours after it was sent, and not a second longer', async () => {
    const early = await registered();
    early.account.clock.advanceSeconds(emailVerificationTokenLifetimeSeconds - 1);
    await verifyEmailAddress(early.account.context, early.token);
    assert.equal(accountState(await early.account.findUser(alice)), 'verified');

    const late = await registered();
    late.account.clock.advanceSeconds(emailVerificationTokenLifetimeSeconds);
    assert.equal(await checkEmailVerificationToken(late.account.context, late.token), false);
    await assertFlowError(verifyEmailAddress(late.account.context, late.token), 'invalid_token');
    assert.equal(accountState(await late.account.findUser(alice)), 'unverified');
  });

  test('a verification link works once', async () => {
    const { account, token } = await registered();

    await verifyEmailAddress(account.context, token);

    await assertFlowError(verifyEmailAddress(account.context, token), 'invalid_token');
  });

  test('opening a link to check it (as a mail scanner does) does not use it up', async () => {
    const { account, token } = await registered();

    assert.equal(await checkEmailVerificationToken(account.context, token), true);
    assert.equal(await checkEmailVerificationToken(account.context, token), true);

    await verifyEmailAddress(account.context, token);
    assert.equal(await checkEmailVerificationToken(account.context, token), false);
  });

  test('a verified address ends every other pending verification link of the account', async () => {
    const { account, token: first } = await registered();
    await resendEmailVerification(account.context, alice);
    const second = account.tokenFromLatestEmail(alice, 'verify_email');

    await verifyEmailAddress(account.context, second);

    await assertFlowError(verifyEmailAddress(account.context, first), 'invalid_token');
  });

  test('an unknown or malformed token is refused with invalid_token', async () => {
    const { account } = await registered();

    for (const token of [generateToken(), 'not-a-token', '']) {
      assert.equal(await checkEmailVerificationToken(account.context, token), false);
      await assertFlowError(verifyEmailAddress(account.context, token), 'invalid_token');
    }
  });

  test('resend gives an unverified account a fresh link, and the earlier links keep working', async () => {
    const { account, token: first } = await registered();

    await resendEmailVerification(account.context, alice);

    const second = account.tokenFromLatestEmail(alice, 'verify_email');
    assert.notEqual(second, first);
    assert.equal(await checkEmailVerificationToken(account.context, first), true);
    assert.equal(await checkEmailVerificationToken(account.context, second), true);
  });

  test('resend sends nothing for an unknown, a verified or a contested address', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress('verified@example.test'), password);
    await verifyEmailAddress(
      account.context,
      account.tokenFromLatestEmail('verified@example.test', 'verify_email'),
    );
    await registerAccount(account.context, emailAddress('contested@example.test'), password);
    await registerAccount(account.context, emailAddress('contested@example.test'), otherPassword);
    const emailsBefore = account.database.emails.length;

    for (const address of ['nobody@example.test', 'verified@example.test', 'contested@example.test']) {
      await resendEmailVerification(account.context, address);
    }

    assert.equal(account.database.emails.length, emailsBefore);
  });

  test('resend looks at the address alone: a disabled account that is still unverified gets a link', async () => {
    const { account } = await registered();
    const user = await account.findUser(alice);
    await account.users.setUserActive(user.id, false);
    assert.equal(accountState(await account.findUser(alice)), 'disabled');

    await resendEmailVerification(account.context, alice);

    assert.equal(account.emailsTo(alice).length, 2);
  });
});
