import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderEmail } from '../../src/email/templates/index.ts';
import { checkEmailVerificationToken } from '../../src/flows/email-verification.ts';
import type { EmailMessage } from '../../src/flows/model.ts';
import { checkPasswordResetToken, requestPasswordReset } from '../../src/flows/password-reset.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import {
  emailVerificationTokenLifetimeSeconds,
  passwordResetTokenLifetimeSeconds,
} from '../../src/flows/token-emails.ts';
import {
  addVerifiedAccount,
  createMemoryAccount,
  emailAddress,
  otherPassword,
  password,
  tokenOf,
  type MemoryAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';

/** The deadline an email states ("valid until 10:00 UTC on 15 January 2026"), read back as a time. */
function statedDeadline(message: EmailMessage): Date {
  const { text, html } = renderEmail(message, { productName: 'Latchkey' });
  const match = /valid until (\d{2}):(\d{2}) UTC on (\d{1,2}) (\w+) (\d{4})/.exec(text);
  assert.ok(match, `no deadline in:\n${text}`);
  assert.ok(html.includes(match[0]), 'the HTML part states another deadline');
  const [, hours, minutes, day, month, year] = match;
  return new Date(`${day} ${month} ${year} ${hours}:${minutes} UTC`);
}

/**
 * The link still works at the stated time and is dead a minute after it: the email promises neither more
 * nor (beyond its rounding down to the minute) less than the token's real lifetime.
 */
async function assertDeadlineHolds(
  account: MemoryAccount,
  message: EmailMessage,
  isUsable: (token: string) => Promise<boolean>,
): Promise<Date> {
  const deadline = statedDeadline(message);
  const token = tokenOf(message);
  account.clock.set(deadline);
  const usableAtDeadline = await isUsable(token);
  account.clock.set(new Date(deadline.getTime() + 60_000));
  const usableAMinuteLater = await isUsable(token);
  assert.deepEqual(
    { usableAtDeadline, usableAMinuteLater },
    { usableAtDeadline: true, usableAMinuteLater: false },
  );
  return deadline;
}

/** `lifetimeSeconds` after `issuedAt`, rounded down to the minute as the email states it. */
function expectedDeadline(issuedAt: Date, lifetimeSeconds: number): Date {
  const expiresAtMs = issuedAt.getTime() + lifetimeSeconds * 1000;
  return new Date(expiresAtMs - (expiresAtMs % 60_000));
}

describe('what an email says about its link agrees with the token the flow issued', () => {
  test('a verification email states the deadline of its link: 24 hours after it was issued', async () => {
    const account = createMemoryAccount();
    const issuedAt = account.clock.now();
    await registerAccount(account.context, emailAddress(alice), password);
    const [message] = account.emailsTo(alice);
    assert.ok(message);

    const deadline = await assertDeadlineHolds(account, message, (token) =>
      checkEmailVerificationToken(account.context, token),
    );

    assert.deepEqual(deadline, expectedDeadline(issuedAt, emailVerificationTokenLifetimeSeconds));
  });

  test('a reset email states the deadline of its link: 1 hour after it was issued', async () => {
    const account = await addVerifiedAccount();
    const issuedAt = account.clock.now();
    await requestPasswordReset(account.context, alice);
    const message = account.emailsTo(alice).at(-1);
    assert.equal(message?.template, 'password_reset');

    const deadline = await assertDeadlineHolds(account, message, (token) =>
      checkPasswordResetToken(account.context, token),
    );

    assert.deepEqual(deadline, expectedDeadline(issuedAt, passwordResetTokenLifetimeSeconds));
  });

  test('an already-registered email states the deadline of its reset link', async () => {
    const account = await addVerifiedAccount();
    await registerAccount(account.context, emailAddress(alice), otherPassword);
    const message = account.emailsTo(alice).at(-1);
    assert.equal(message?.template, 'already_registered');

    await assertDeadlineHolds(account, message, (token) => checkPasswordResetToken(account.context, token));
  });

  test('an email sent late (a retry after an SMTP outage) still states the real deadline, not a fresh lifetime', async () => {
    const account = await addVerifiedAccount();
    await requestPasswordReset(account.context, alice);
    const message = account.emailsTo(alice).at(-1);
    assert.ok(message);
    const onTime = renderEmail(message, { productName: 'Latchkey' });

    account.clock.advanceSeconds(50 * 60);

    assert.deepEqual(renderEmail(message, { productName: 'Latchkey' }), onTime);
    await assertDeadlineHolds(account, message, (token) => checkPasswordResetToken(account.context, token));
  });
});
