import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cancelEmailChange,
  checkEmailChangeCancelToken,
  checkEmailChangeConfirmToken,
  confirmEmailChange,
  requestEmailChange,
} from '../../src/flows/email-change.ts';
import { logIn } from '../../src/flows/login.ts';
import {
  checkPasswordResetToken,
  requestPasswordReset,
  resetPassword,
} from '../../src/flows/password-reset.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { findSessionByToken } from '../../src/flows/sessions.ts';
import {
  emailChangeCancelTokenLifetimeSeconds,
  emailChangeConfirmTokenLifetimeSeconds,
} from '../../src/flows/token-emails.ts';
import {
  addVerifiedAccount,
  assertFlowError,
  emailAddress,
  otherPassword,
  password,
  tokenOf,
  type MemoryAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';
const newAddress = 'alice.new@example.test';

async function userIdOf(account: MemoryAccount, address = alice): Promise<string> {
  return (await account.findUser(address)).id;
}

/** Asks to move alice's account to `to`; returns the confirm token (when one was sent) and the cancel token. */
async function askChange(
  account: MemoryAccount,
  to = newAddress,
): Promise<{ confirm: string | undefined; cancel: string }> {
  await requestEmailChange(account.context, await userIdOf(account), emailAddress(to), password);
  const confirmEmail = account.emailsTo(to).at(-1);
  return {
    confirm: confirmEmail?.template === 'email_change_confirm' ? tokenOf(confirmEmail) : undefined,
    cancel: account.tokenFromLatestEmail(alice, 'email_change_notice'),
  };
}

async function confirmToken(account: MemoryAccount): Promise<string> {
  const { confirm } = await askChange(account);
  assert.ok(confirm, 'a confirm link was sent');
  return confirm;
}

describe('email change', () => {
  test('a wrong current password is refused, changes nothing and spends the login budget', async () => {
    const account = await addVerifiedAccount();
    const userId = await userIdOf(account);
    const emailsBefore = account.database.emails.length;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await assertFlowError(
        requestEmailChange(account.context, userId, emailAddress(newAddress), otherPassword),
        'invalid_current_password',
      );
    }
    await assertFlowError(
      requestEmailChange(account.context, userId, emailAddress(newAddress), otherPassword),
      'rate_limited',
    );
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'rate_limited');
    assert.equal(account.database.emails.length, emailsBefore);
  });

  test('a free address gets a confirm link and the old address a notice with a cancel link', async () => {
    const account = await addVerifiedAccount();
    const { confirm, cancel } = await askChange(account);
    assert.ok(confirm);
    assert.equal(await checkEmailChangeConfirmToken(account.context, confirm), true);
    assert.equal(await checkEmailChangeCancelToken(account.context, cancel), true);
    const notice = account.emailsTo(alice).at(-1);
    assert.equal(notice?.template === 'email_change_notice' && notice.params.changed, false);
  });

  test('a taken address gets its owner a notice instead, and nothing can be confirmed', async () => {
    const account = await addVerifiedAccount();
    await addVerifiedAccount(account, 'bob@example.test');
    const { confirm } = await askChange(account, 'Bob@example.test');
    assert.equal(confirm, undefined);
    assert.equal(account.emailsTo('bob@example.test').at(-1)?.template, 'email_change_attempted');
    assert.equal(
      account.database.tokens.rows().some((token) => token.purpose === 'email_change_confirm'),
      false,
    );
    await logIn(account.context, emailAddress(alice), password);
  });

  test('asking for the current address sends nothing', async () => {
    const account = await addVerifiedAccount();
    const emailsBefore = account.database.emails.length;
    await requestEmailChange(
      account.context,
      await userIdOf(account),
      emailAddress('ALICE@example.test'),
      password,
    );
    assert.equal(account.database.emails.length, emailsBefore);
  });

  test('a pending change never blocks login with the current address', async () => {
    const account = await addVerifiedAccount();
    await askChange(account);
    await logIn(account.context, emailAddress(alice), password);
    await assertFlowError(logIn(account.context, emailAddress(newAddress), password), 'invalid_credentials');
  });

  test('confirming switches the address, ends every session, kills old links and tells the old address', async () => {
    const account = await addVerifiedAccount();
    const session = await logIn(account.context, emailAddress(alice), password);
    await requestPasswordReset(account.context, alice);
    const resetToken = account.tokenFromLatestEmail(alice, 'password_reset');
    const confirm = await confirmToken(account);

    await confirmEmailChange(account.context, confirm);

    assert.equal(await findSessionByToken(account.context, session.token), null);
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'invalid_credentials');
    const loggedIn = await logIn(account.context, emailAddress(newAddress), password);
    assert.equal(loggedIn.user.email, newAddress);
    assert.equal(await checkPasswordResetToken(account.context, resetToken), false);
    await assertFlowError(resetPassword(account.context, resetToken, otherPassword), 'invalid_token');
    const notice = account.emailsTo(alice).at(-1);
    assert.ok(notice?.template === 'email_change_notice' && notice.params.changed);
    assert.equal(await checkEmailChangeCancelToken(account.context, tokenOf(notice)), true);
    // The old address registers as new.
    await registerAccount(account.context, emailAddress(alice), otherPassword);
    assert.equal(account.emailsTo(alice).at(-1)?.template, 'verify_email');
  });

  test('a confirm link works for 1 hour, and once', async () => {
    const late = await addVerifiedAccount();
    const lateToken = await confirmToken(late);
    late.clock.advanceSeconds(emailChangeConfirmTokenLifetimeSeconds);
    assert.equal(await checkEmailChangeConfirmToken(late.context, lateToken), false);
    await assertFlowError(confirmEmailChange(late.context, lateToken), 'invalid_token');

    const early = await addVerifiedAccount();
    const earlyToken = await confirmToken(early);
    early.clock.advanceSeconds(emailChangeConfirmTokenLifetimeSeconds - 1);
    await confirmEmailChange(early.context, earlyToken);
    await assertFlowError(confirmEmailChange(early.context, earlyToken), 'invalid_token');
  });

  test('a newer request ends the older confirm link', async () => {
    const account = await addVerifiedAccount();
    const older = await confirmToken(account);
    const newer = await confirmToken(account);
    await assertFlowError(confirmEmailChange(account.context, older), 'invalid_token');
    await confirmEmailChange(account.context, newer);
  });

  test('an address registered before the confirmation is answered email_taken, and nothing changes', async () => {
    const account = await addVerifiedAccount();
    const confirm = await confirmToken(account);
    await addVerifiedAccount(account, newAddress);
    await assertFlowError(confirmEmailChange(account.context, confirm), 'email_taken');
    await logIn(account.context, emailAddress(alice), password);
  });

  test('cancelling before confirmation voids the change', async () => {
    const account = await addVerifiedAccount();
    const { confirm, cancel } = await askChange(account);
    assert.ok(confirm);
    assert.equal((await cancelEmailChange(account.context, cancel)).outcome, 'voided');
    await assertFlowError(confirmEmailChange(account.context, confirm), 'invalid_token');
    await assertFlowError(cancelEmailChange(account.context, cancel), 'invalid_token');
    await logIn(account.context, emailAddress(alice), password);
  });

  test('cancelling within 72 hours of the confirmation restores the old address, removes the password and sends a reset link', async () => {
    const account = await addVerifiedAccount();
    await confirmEmailChange(account.context, await confirmToken(account));
    const session = await logIn(account.context, emailAddress(newAddress), password);
    const undo = account.tokenFromLatestEmail(alice, 'email_change_notice');
    account.clock.advanceSeconds(emailChangeCancelTokenLifetimeSeconds - 1);

    assert.equal((await cancelEmailChange(account.context, undo)).outcome, 'restored');

    assert.equal(await findSessionByToken(account.context, session.token), null);
    assert.equal((await account.findUser(alice)).passwordHash, null);
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'invalid_credentials');
    await assertFlowError(logIn(account.context, emailAddress(newAddress), password), 'invalid_credentials');
    const reset = account.tokenFromLatestEmail(alice, 'password_reset');
    await resetPassword(account.context, reset, otherPassword);
    await logIn(account.context, emailAddress(alice), otherPassword);
  });

  test('the undo link stops working 72 hours after the confirmation', async () => {
    const account = await addVerifiedAccount();
    await confirmEmailChange(account.context, await confirmToken(account));
    const undo = account.tokenFromLatestEmail(alice, 'email_change_notice');
    account.clock.advanceSeconds(emailChangeCancelTokenLifetimeSeconds);
    await assertFlowError(cancelEmailChange(account.context, undo), 'invalid_token');
    await logIn(account.context, emailAddress(newAddress), password);
  });

  test('of 20 concurrent confirmations of one link exactly one succeeds', async () => {
    const account = await addVerifiedAccount();
    const confirm = await confirmToken(account);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => confirmEmailChange(account.context, confirm)),
    );
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
    assert.equal(
      account.emailsTo(alice).filter((email) => email.template === 'email_change_notice').length,
      2,
    );
  });

  test("when confirm and cancel race, exactly one wins and the address is the winner's", async () => {
    const account = await addVerifiedAccount();
    const { confirm, cancel } = await askChange(account);
    assert.ok(confirm);
    const [confirmed, cancelled] = await Promise.allSettled([
      confirmEmailChange(account.context, confirm),
      cancelEmailChange(account.context, cancel),
    ]);
    assert.notEqual(confirmed.status, cancelled.status, 'exactly one of them succeeds');
    const address = confirmed.status === 'fulfilled' ? newAddress : alice;
    await logIn(account.context, emailAddress(address), password);
  });
});
