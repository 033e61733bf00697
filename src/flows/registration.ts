import { addressState } from './account-state.ts';
import { completeAuditEvent, recordAuditEvent } from './audit.ts';
import { passwordHasherOf, type AccountContext } from './context.ts';
import { mayEmailRecipient } from './attempt-budgets.ts';
import { prepareVerificationEmail, sendVerificationEmail } from './email-verification.ts';
import { prepareResetEmail } from './password-reset.ts';
import type { TokenEmail } from './ports.ts';
import { issueTokenWithEmailInTransaction } from './token-emails.ts';
import { assertAcceptablePassword } from './password-rules.ts';
import type { User } from './model.ts';
import type { EmailAddress } from '../security/email-address.ts';
import type { Locale } from '../security/locale.ts';

/**
 * Registers an address. The caller answers the same way whatever happens here: a new address gets a
 * verification email, an existing one gets an "you already have an account" email with a reset link, so
 * the response never tells whether an address is registered. Each path costs one argon2id computation.
 */
export async function registerAccount(
  context: AccountContext,
  email: EmailAddress,
  password: string,
  /** `returnTo`: checked against RETURN_TO_ORIGINS by the caller; the emailed link carries it. */
  options: { readonly returnTo?: string; readonly locale?: Locale } = {},
): Promise<void> {
  assertAcceptablePassword(context.passwordPolicy, password, email.key);
  // Spent before the lookup, for taken and free addresses alike: the budget says nothing about the account.
  const mayEmail = await mayEmailRecipient(context, email.key);
  const existing = await context.users.findUserByEmailKey(email.key);
  if (existing !== null) return answerExistingRegistration(context, existing, password, mayEmail, options);

  const passwordHash = await passwordHasherOf(context).hashPassword(password);
  const account = { email: email.address, emailKey: email.key, passwordHash, locale: options.locale ?? null };
  const event = { event: 'registration', outcome: 'success', userId: null } as const;
  // One statement either way, as for a taken address below: the answer takes as long whether or not the address
  // has an account (test/e2e/timing.test.ts).
  const created = mayEmail
    ? await context.transactor.insertUserWithTokenEmail(
        account,
        prepareVerificationEmail(context, account, options.returnTo),
        completeAuditEvent(event, context.clock.now()),
      )
    : await context.transactor.runInTransaction(async (stores) => {
        const user = await stores.users.insertUser(account);
        if (user !== null)
          await recordAuditEvent(stores.audit, { ...event, userId: user.id }, context.clock.now());
        return user;
      });
  if (created !== null) return;
  // Lost a race with a concurrent registration of the same address: it exists now.
  const winner = await context.users.findUserByEmailKey(email.key);
  if (winner !== null) await answerExistingRegistration(context, winner, password, mayEmail, options);
}

async function answerExistingRegistration(
  context: AccountContext,
  user: User,
  password: string,
  mayEmail: boolean,
  options: { readonly returnTo?: string },
): Promise<void> {
  const passwords = passwordHasherOf(context);
  // A deleted account waiting for its grace period to end: the owner has its restore link; nothing is sent,
  // and the address registers as new once housekeeping has removed the account.
  if (user.deletedAt !== null) return passwords.verifyAgainstDummyHash(password);
  // By the address alone: a disabled account is answered as its address state says.
  const state = addressState(user);
  const check =
    user.passwordHash === null
      ? (await passwords.verifyAgainstDummyHash(password), { valid: false })
      : await passwords.verifyPassword(user.passwordHash, password);
  if (state === 'unverified' && check.valid) {
    // The same person again (a double submit, a lost email): send a fresh link.
    if (mayEmail) await sendVerificationEmail(context, user, options.returnTo);
    return;
  }
  const resetEmail = (): TokenEmail =>
    prepareResetEmail(context, user, 'already_registered', options.returnTo);
  if (state === 'verified') {
    if (mayEmail) {
      await context.transactor.issueTokenWithEmail(user.id, resetEmail(), { replacePrevious: true });
    }
    return;
  }
  // Unverified with another password (it becomes contested), or contested already. Two different passwords for
  // one unverified address: one of them belongs to someone who does not own the mailbox. Neither may survive:
  // the password is cleared and pending verification links die, so only the reset link sent to the mailbox
  // can set a password.
  await context.transactor.runInTransaction(async (stores) => {
    const now = context.clock.now();
    await stores.users.setUserPasswordHash(user.id, null);
    await stores.tokens.invalidateUserTokens(user.id, 'email_verification', now);
    if (mayEmail) {
      await issueTokenWithEmailInTransaction(stores, user.id, resetEmail(), { replacePrevious: true, now });
    }
  });
}
