import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountState } from '../../src/flows/account-state.ts';
import { checkEmailVerificationToken } from '../../src/flows/email-verification.ts';
import { logIn } from '../../src/flows/login.ts';
import {
  checkPasswordResetToken,
  requestPasswordReset,
  resetPassword,
} from '../../src/flows/password-reset.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { findSessionByToken } from '../../src/flows/sessions.ts';
import { passwordResetTokenLifetimeSeconds } from '../../src/flows/token-emails.ts';
import { generateToken } from '../../src/security/tokens.ts';
import {
  assertFlowError,
  baseUrl,
  createMemoryAccount,
  emailAddress,
  otherPassword,
  password,
  thirdPassword,
  type MemoryAccount,
  addVerifiedAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';

async function resetLink(account: MemoryAccount, address = alice): Promise<string> {
  await requestPasswordReset(account.context, address);
  return account.tokenFromLatestEmail(address, 'password_reset');
}

describe('password reset', () => {
  test('a reset request emails an active account a link; an unknown or a disabled address gets nothing', async () => {
    const account = await addVerifiedAccount();
    await addVerifiedAccount(account, 'disabled@example.test');
    await account.users.setUserActive((await account.findUser('disabled@example.test')).id, false);
    const emailsBefore = account.database.emails.length;

    await requestPasswordReset(account.context, 'nobody@example.test');
    await requestPasswordReset(account.context, 'disabled@example.test');
    assert.equal(account.database.emails.length, emailsBefore);

    const token = await resetLink(account);
    assert.equal(await checkPasswordResetToken(account.context, token), true);
  });

  test('a reset link works until 1 hour after it was sent, and not a second longer', async () => {
    const early = await addVerifiedAccount();
    const earlyToken = await resetLink(early);
    early.clock.advanceSeconds(passwordResetTokenLifetimeSeconds - 1);
    await resetPassword(early.context, earlyToken, otherPassword);

    const late = await addVerifiedAccount();
    const lateToken = await resetLink(late);
    late.clock.advanceSeconds(passwordResetTokenLifetimeSeconds);
    assert.equal(await checkPasswordResetToken(late.context, lateToken), false);
    await assertFlowError(resetPassword(late.context, lateToken, otherPassword), 'invalid_token');
    await logIn(late.context, emailAddress(alice), password);
  });

  test('a reset link works once', async () => {
    const account = await addVerifiedAccount();
    const token = await resetLink(account);

    await resetPassword(account.context, token, otherPassword);

    await assertFlowError(resetPassword(account.context, token, thirdPassword), 'invalid_token');
    await logIn(account.context, emailAddress(alice), otherPassword);
  });

  test('a newer reset link ends the older ones', async () => {
    const account = await addVerifiedAccount();
    const older = await resetLink(account);

    const newer = await resetLink(account);

    assert.equal(await checkPasswordResetToken(account.context, older), false);
    await assertFlowError(resetPassword(account.context, older, otherPassword), 'invalid_token');
    await resetPassword(account.context, newer, otherPassword);
  });

  test("a reset sets the password, ends every session of the account (and no one else's), and tells the owner", async () => {
    const account = await addVerifiedAccount();
    await addVerifiedAccount(account, 'bob@example.test');
    const sessions = [
      await logIn(account.context, emailAddress(alice), password),
      await logIn(account.context, emailAddress(alice), password),
    ];
    const bobs = await logIn(account.context, emailAddress('bob@example.test'), password);

    await resetPassword(account.context, await resetLink(account), otherPassword);

    for (const session of sessions)
      assert.equal(await findSessionByToken(account.context, session.token), null);
    assert.ok(await findSessionByToken(account.context, bobs.token));
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'invalid_credentials');
    await logIn(account.context, emailAddress(alice), otherPassword);
    assert.deepEqual(account.emailsTo(alice).at(-1), {
      template: 'password_changed',
      to: alice,
      params: { resetUrl: `${baseUrl}/reset-password` },
    });
  });

  test('a reset proves the mailbox: an unverified account becomes verified, and its verification links die', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);
    const verification = account.tokenFromLatestEmail(alice, 'verify_email');

    await resetPassword(account.context, await resetLink(account), otherPassword);

    assert.equal(accountState(await account.findUser(alice)), 'verified');
    assert.equal(await checkEmailVerificationToken(account.context, verification), false);
  });

  test('a new password is held to the policy, including the address of the account the link belongs to', async () => {
    const account = await addVerifiedAccount();
    const token = await resetLink(account);

    await assertFlowError(resetPassword(account.context, token, 'too short'), 'password_too_short');
    await assertFlowError(
      resetPassword(account.context, token, 'alice wants her account back'),
      'password_contains_email',
    );

    await resetPassword(account.context, token, otherPassword);
  });

  test('an unknown or malformed token is refused with invalid_token and changes nothing', async () => {
    const account = await addVerifiedAccount();

    for (const token of [generateToken(), 'not-a-token']) {
      await assertFlowError(resetPassword(account.context, token, otherPassword), 'invalid_token');
    }
    await logIn(account.context, emailAddress(alice), password);
  });

  test('one reset token may be tried 10 times an hour; the 11th try is rate_limited, even with the real link', async () => {
    const account = await addVerifiedAccount();
    const token = await resetLink(account);
    // Ten tries with the right token but a password the account refuses: each spends a point.
    for (let attempt = 1; attempt <= 10; attempt++) {
      await assertFlowError(
        resetPassword(account.context, token, 'alice wants her account back'),
        'password_contains_email',
      );
    }

    await assertFlowError(resetPassword(account.context, token, otherPassword), 'rate_limited');
    assert.equal(
      await checkPasswordResetToken(account.context, token),
      true,
      'the link itself is not used up',
    );
  });
});
