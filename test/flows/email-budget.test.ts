import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resendEmailVerification } from '../../src/flows/email-verification.ts';
import { requestPasswordReset } from '../../src/flows/password-reset.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { createMemoryAccount, emailAddress, password } from './memory-account.ts';

const alice = 'alice@example.test';

describe('emails per recipient', () => {
  test('the public routes send one address at most 5 emails an hour; over budget the answer is the same and nothing is sent', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress(alice), password);

    for (let request = 1; request <= 6; request++) {
      await resendEmailVerification(account.context, alice);
      await requestPasswordReset(account.context, alice);
    }

    assert.equal(account.emailsTo(alice).length, 5);
  });

  test('a registration over budget still creates the account, without its email', async () => {
    const account = createMemoryAccount();
    for (let request = 1; request <= 5; request++) await resendEmailVerification(account.context, alice);

    await registerAccount(account.context, emailAddress(alice), password);

    await account.findUser(alice);
    assert.deepEqual(account.emailsTo(alice), []);
  });

  test("one address's spent budget leaves other addresses their own", async () => {
    const account = createMemoryAccount();
    for (let request = 1; request <= 6; request++) await requestPasswordReset(account.context, alice);

    await registerAccount(account.context, emailAddress('bob@example.test'), password);

    assert.equal(account.emailsTo('bob@example.test').length, 1);
  });
});
