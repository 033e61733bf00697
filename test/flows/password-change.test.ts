import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PasswordHasher } from '../../src/flows/context.ts';
import type { Session } from '../../src/flows/model.ts';
import { logIn } from '../../src/flows/login.ts';
import { changePassword } from '../../src/flows/password-change.ts';
import { checkPasswordResetToken, requestPasswordReset } from '../../src/flows/password-reset.ts';
import { findSessionByToken } from '../../src/flows/sessions.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import {
  addVerifiedAccount,
  assertFlowError,
  baseUrl,
  emailAddress,
  otherPassword,
  password,
  thirdPassword,
  type MemoryAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';

async function logInAlice(
  account: MemoryAccount,
  withPassword = password,
): Promise<{ token: string; session: Session }> {
  const { token } = await logIn(account.context, emailAddress(alice), withPassword);
  const session = await findSessionByToken(account.context, token);
  assert.ok(session);
  return { token, session };
}

describe('password change', () => {
  test('the new password works, the old one not; the caller stays signed in, every other session ends', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);
    const other = await logInAlice(account);
    const third = await logInAlice(account);

    await changePassword(account.context, caller.session, password, otherPassword);

    assert.ok(await findSessionByToken(account.context, caller.token));
    assert.equal(await findSessionByToken(account.context, other.token), null);
    assert.equal(await findSessionByToken(account.context, third.token), null);
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'invalid_credentials');
    await logIn(account.context, emailAddress(alice), otherPassword);
  });

  test('one "password changed" email goes to the owner, pointing at the reset page', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);
    const before = account.emailsTo(alice).length;

    await changePassword(account.context, caller.session, password, otherPassword);

    const sent = account.emailsTo(alice).slice(before);
    assert.deepEqual(sent, [
      { template: 'password_changed', to: alice, params: { resetUrl: `${baseUrl}/reset-password` } },
    ]);
  });

  test('open reset and verification links of the account stop working', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);
    await requestPasswordReset(account.context, alice);
    const resetToken = account.tokenFromLatestEmail(alice, 'password_reset');
    const verificationToken = generateToken();
    const now = account.clock.now();
    await account.context.tokens.createToken({
      tokenHash: hashToken(verificationToken),
      purpose: 'email_verification',
      userId: caller.session.userId,
      expiresAt: new Date(now.getTime() + 3600_000),
    });

    await changePassword(account.context, caller.session, password, otherPassword);

    assert.equal(await checkPasswordResetToken(account.context, resetToken), false);
    assert.equal(
      await account.context.tokens.findValidToken(hashToken(verificationToken), 'email_verification', now),
      null,
    );
  });

  test('a wrong current password is refused and changes nothing: no session ends, no email is sent', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);
    const other = await logInAlice(account);
    const before = account.emailsTo(alice).length;

    await assertFlowError(
      changePassword(account.context, caller.session, thirdPassword, otherPassword),
      'invalid_current_password',
    );

    assert.ok(await findSessionByToken(account.context, other.token));
    assert.equal(account.emailsTo(alice).length, before);
    await logIn(account.context, emailAddress(alice), password);
  });

  test('wrong current passwords spend the login budget: the 6th in a minute is refused, as is a login', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);

    for (let attempt = 1; attempt <= 5; attempt++) {
      await assertFlowError(
        changePassword(account.context, caller.session, thirdPassword, otherPassword),
        'invalid_current_password',
      );
    }

    await assertFlowError(
      changePassword(account.context, caller.session, password, otherPassword),
      'rate_limited',
    );
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'rate_limited');
  });

  test('failed logins count against the change too', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);
    for (let attempt = 1; attempt <= 5; attempt++) {
      await assertFlowError(
        logIn(account.context, emailAddress(alice), thirdPassword),
        'invalid_credentials',
      );
    }

    await assertFlowError(
      changePassword(account.context, caller.session, password, otherPassword),
      'rate_limited',
    );
  });

  test('the new password follows the register rules; a refused one changes nothing', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);
    const other = await logInAlice(account);
    const cases: [string, string][] = [
      ['short', 'password_too_short'],
      ['x'.repeat(129), 'password_too_long'],
      ['passwordpassword123', 'password_too_common'],
      ['my address is alice here ok', 'password_contains_email'],
    ];

    for (const [newPassword, code] of cases) {
      await assertFlowError(changePassword(account.context, caller.session, password, newPassword), code);
    }

    assert.ok(await findSessionByToken(account.context, other.token));
    await logIn(account.context, emailAddress(alice), password);
  });

  test('a login that checked the old password while the change committed leaves no working session', async () => {
    const account = await addVerifiedAccount();
    const caller = await logInAlice(account);
    // The login's password check finishes only once the change has committed and cleaned up.
    let releaseLogin: () => void = () => {};
    const loginChecked = new Promise<void>((resolve) => {
      releaseLogin = resolve;
    });
    const hasher = account.hasher;
    const verifyPassword = hasher.verifyPassword.bind(hasher);
    let paused = false;
    let reachedCheck: () => void = () => {};
    const loginReachedCheck = new Promise<void>((resolve) => {
      reachedCheck = resolve;
    });
    (account.context as { passwordHasher?: PasswordHasher }).passwordHasher = {
      ...hasher,
      async verifyPassword(passwordHash, candidate) {
        const result = await verifyPassword(passwordHash, candidate);
        if (!paused) {
          paused = true;
          reachedCheck();
          await loginChecked;
        }
        return result;
      },
    };

    const racingLogin = logIn(account.context, emailAddress(alice), password);
    await loginReachedCheck;
    (account.context as { passwordHasher?: PasswordHasher }).passwordHasher = hasher;
    await changePassword(account.context, caller.session, password, otherPassword);
    releaseLogin();

    // The login stored its session after the change's clean-up: it ends that session itself and hands out
    // no token.
    await assertFlowError(racingLogin, 'invalid_credentials');
    assert.ok(await findSessionByToken(account.context, caller.token));
  });
});
