import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deleteAccount } from '../../src/flows/account-deletion.ts';
import { cancelEmailChange, confirmEmailChange, requestEmailChange } from '../../src/flows/email-change.ts';
import { verifyEmailAddress } from '../../src/flows/email-verification.ts';
import { requestPasswordReset, resetPassword } from '../../src/flows/password-reset.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import {
  createMemoryAccount,
  emailAddress,
  otherPassword,
  password,
  thirdPassword,
} from './memory-account.ts';

const alice = 'alice@example.test';
const bob = 'bob@example.test';
const aliceNew = 'alice.new@example.test';
const hourSeconds = 60 * 60;

describe('the language of an account and its emails', () => {
  test('every email to an account is queued in the locale it registered with, whatever sends it', async () => {
    const account = createMemoryAccount();
    const { context } = account;
    const step = (): void => account.clock.advanceSeconds(hourSeconds);
    await registerAccount(context, emailAddress(alice), password, { locale: 'de' });
    await registerAccount(context, emailAddress(bob), password, { locale: 'en' });
    assert.equal((await account.findUser(alice)).locale, 'de');
    assert.equal((await account.findUser(bob)).locale, 'en');
    await verifyEmailAddress(context, account.tokenFromLatestEmail(alice, 'verify_email'));
    await verifyEmailAddress(context, account.tokenFromLatestEmail(bob, 'verify_email'));
    const aliceId = (await account.findUser(alice)).id;

    await registerAccount(context, emailAddress(alice), otherPassword, { locale: 'en' });
    step();
    await requestPasswordReset(context, emailAddress(alice).key);
    await resetPassword(context, account.tokenFromLatestEmail(alice, 'password_reset'), thirdPassword);
    step();
    await requestEmailChange(context, aliceId, emailAddress(bob), thirdPassword);
    step();
    await requestEmailChange(context, aliceId, emailAddress(aliceNew), thirdPassword);
    await confirmEmailChange(context, account.tokenFromLatestEmail(aliceNew, 'email_change_confirm'));
    step();
    await cancelEmailChange(context, account.tokenFromLatestEmail(alice, 'email_change_notice'));
    await resetPassword(context, account.tokenFromLatestEmail(alice, 'password_reset'), password);
    step();
    await deleteAccount(context, aliceId, password);

    const sent = [...account.emailsTo(alice), ...account.emailsTo(aliceNew)].map((email) => [
      email.template,
      email.locale,
    ]);
    // A later registration naming another language changes nothing: the account keeps its own.
    for (const template of [
      'verify_email',
      'already_registered',
      'password_reset',
      'password_changed',
      'email_change_confirm',
      'email_change_notice',
      'account_deleted',
    ]) {
      assert.ok(
        sent.some(([name]) => name === template),
        `no ${template} was sent: ${JSON.stringify(sent)}`,
      );
    }
    assert.deepEqual(
      sent.filter(([, locale]) => locale !== 'de'),
      [],
    );
    // The owner of a taken address is told in their own language, not the asker's.
    assert.deepEqual(
      account.emailsTo(bob).map((email) => [email.template, email.locale]),
      [
        ['verify_email', 'en'],
        ['email_change_attempted', 'en'],
      ],
    );
  });

  test('the notice of a deletion that cannot be undone is in the account language too', async () => {
    const account = createMemoryAccount({ accountDeletionGraceDays: 0 });
    await registerAccount(account.context, emailAddress(alice), password, { locale: 'de' });
    await verifyEmailAddress(account.context, account.tokenFromLatestEmail(alice, 'verify_email'));
    await deleteAccount(account.context, (await account.findUser(alice)).id, password);
    const notice = account.emailsTo(alice).at(-1);
    assert.equal(notice?.template, 'account_deleted');
    assert.equal(notice?.locale, 'de');
  });

  test('an account registered without a locale queues emails without one: they render in DEFAULT_LOCALE', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);
    assert.equal((await account.findUser(alice)).locale, null);
    const [verification] = account.emailsTo(alice);
    assert.ok(verification);
    assert.equal('locale' in verification, false);
  });
});
