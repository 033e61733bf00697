import { localeField } from '../security/locale.ts';
import { recordAuditEvent } from './audit.ts';
import { mayEmailRecipient } from './attempt-budgets.ts';
import type { AccountContext } from './context.ts';
import { checkCurrentPassword, findLiveUser } from './current-password.ts';
import { FlowError } from './errors.ts';
import type { User } from './model.ts';
import type { TokenEmail, TransactionStores } from './ports.ts';
import { prepareResetEmail } from './password-reset.ts';
import { endUserSessions } from './sessions.ts';
import { issueTokenWithEmailInTransaction, prepareTokenEmail } from './token-emails.ts';
import { parseEmailAddress, type EmailAddress } from '../security/email-address.ts';
import { hashToken, isWellFormedToken } from '../security/tokens.ts';

/** What a cancel link did: voided a change still pending, or undid a confirmed one. */
export type EmailChangeCancellation = 'voided' | 'restored';

/**
 * Asks to move the account to `newEmail`; the caller answers the same whatever the address is. A free address
 * gets a confirm link; a taken one gets its owner a notice instead (nothing can be confirmed); the current
 * address gets nothing. The old address is told, with a link that voids the change.
 */
export async function requestEmailChange(
  context: AccountContext,
  userId: string,
  newEmail: EmailAddress,
  currentPassword: string,
): Promise<void> {
  const user = await findLiveUser(context, userId);
  await checkCurrentPassword(context, user, currentPassword);
  if (newEmail.key === user.emailKey) return;
  // Spent for free and taken addresses alike, before the lookup.
  const mayEmailNew = await mayEmailRecipient(context, newEmail.key);
  const mayEmailOld = await mayEmailRecipient(context, user.emailKey);
  const holder = await context.users.findUserByEmailKey(newEmail.key);
  const notice = prepareCancelEmail(context, user, false);
  const confirm = prepareTokenEmail(
    context.clock,
    'email_change_confirm',
    (token, expiresAt) => ({
      template: 'email_change_confirm',
      to: newEmail.address,
      ...localeField(user.locale),
      params: { url: context.links.confirmEmailChangeUrl(token), expiresAt },
    }),
    { email: newEmail.address },
  );
  await context.transactor.runInTransaction(async (stores) => {
    const now = context.clock.now();
    if (holder === null) {
      // One pending change at a time: an earlier confirm link stops working.
      if (mayEmailNew) {
        await issueTokenWithEmailInTransaction(stores, user.id, confirm, { replacePrevious: true, now });
      }
    } else if (mayEmailNew && holder.deletedAt === null) {
      await stores.outbox.enqueueEmail({
        template: 'email_change_attempted',
        to: holder.email,
        ...localeField(holder.locale),
        params: { resetUrl: context.links.requestPasswordResetUrl() },
      });
    }
    if (mayEmailOld) {
      await issueTokenWithEmailInTransaction(stores, user.id, notice, { replacePrevious: false, now });
    }
    await recordAuditEvent(
      stores.audit,
      { event: 'email_change_requested', outcome: 'success', userId: user.id },
      now,
    );
  });
}

/** Whether a confirm link is still usable, for its page; changes nothing. */
export async function checkEmailChangeConfirmToken(context: AccountContext, token: string): Promise<boolean> {
  return (await findPending(context, token, 'email_change_confirm')) !== null;
}

/** Whether a cancel link is still usable, for its page; changes nothing. */
export async function checkEmailChangeCancelToken(context: AccountContext, token: string): Promise<boolean> {
  return (await findPending(context, token, 'email_change_cancel')) !== null;
}

/**
 * Moves the account to the confirmed address: every session ends, the links sent to the old address die, and
 * the old address is told, with a link that undoes the change for 72 hours. Returns the account's id.
 */
export async function confirmEmailChange(context: AccountContext, token: string): Promise<string> {
  const { userId, address: newEmail } = await readLink(context, token, 'email_change_confirm');
  const holder = await context.users.findUserByEmailKey(newEmail.key);
  if (holder !== null && holder.id !== userId) throw new FlowError('email_taken');
  // Before as well as after the switch: if the session store is down, nothing changes (503).
  await endUserSessions(context, userId);
  await context.transactor.runInTransaction(async (stores) => {
    const now = context.clock.now();
    const user = await consumeLink(stores, userId, token, 'email_change_confirm', now);
    if (!(await stores.users.changeUserEmail(user.id, newEmail.address, newEmail.key))) {
      throw new FlowError('email_taken');
    }
    await killLinks(stores, user.id, now);
    // The links that would void this change die; links undoing earlier changes stay.
    await stores.tokens.invalidateUserTokens(user.id, 'email_change_cancel', now, { email: user.email });
    await issueTokenWithEmailInTransaction(stores, user.id, prepareCancelEmail(context, user, true), {
      replacePrevious: false,
      now,
    });
    await recordAuditEvent(
      stores.audit,
      { event: 'email_change_confirmed', outcome: 'success', userId: user.id },
      now,
    );
  });
  await endUserSessions(context, userId);
  return userId;
}

/**
 * Before confirmation, voids the pending change. After it (the link lives 72 hours), the account was probably
 * taken over: the old address comes back, every session ends, the password is removed and the old address
 * gets a reset link. Returns what it did and the account's id.
 */
export async function cancelEmailChange(
  context: AccountContext,
  token: string,
): Promise<{ readonly outcome: EmailChangeCancellation; readonly userId: string }> {
  const { userId, address: oldEmail } = await readLink(context, token, 'email_change_cancel');
  const before = await context.users.findUserById(userId);
  // If the account is to be restored, its sessions end first: a session store that is down changes nothing.
  if (before !== null && before.emailKey !== oldEmail.key) await endUserSessions(context, userId);
  const outcome = await context.transactor.runInTransaction(async (stores) => {
    const now = context.clock.now();
    const user = await consumeLink(stores, userId, token, 'email_change_cancel', now);
    await stores.tokens.invalidateUserTokens(user.id, 'email_change_confirm', now);
    const reverted = (outcome: 'voided' | 'restored') =>
      recordAuditEvent(stores.audit, { event: 'email_change_reverted', outcome, userId: user.id }, now);
    if (user.emailKey === oldEmail.key) {
      await reverted('voided');
      return 'voided' as const;
    }
    if (!(await stores.users.changeUserEmail(user.id, oldEmail.address, oldEmail.key))) {
      throw new FlowError('email_taken');
    }
    await stores.users.setUserPasswordHash(user.id, null);
    await killLinks(stores, user.id, now);
    await stores.tokens.invalidateUserTokens(user.id, 'email_change_cancel', now);
    await issueTokenWithEmailInTransaction(
      stores,
      user.id,
      prepareResetEmail(context, { email: oldEmail.address, locale: user.locale }, 'password_reset'),
      { replacePrevious: true, now },
    );
    await reverted('restored');
    return 'restored' as const;
  });
  if (outcome === 'restored') await endUserSessions(context, userId);
  return { outcome, userId };
}

/** The notice to the old address, with the link that voids (or, once `changed`, undoes) the change. */
function prepareCancelEmail(
  context: AccountContext,
  recipient: Pick<User, 'email' | 'locale'>,
  changed: boolean,
): TokenEmail {
  const oldAddress = recipient.email;
  return prepareTokenEmail(
    context.clock,
    'email_change_cancel',
    (token, expiresAt) => ({
      template: 'email_change_notice',
      to: oldAddress,
      ...localeField(recipient.locale),
      params: { url: context.links.cancelEmailChangeUrl(token), changed, expiresAt },
    }),
    { email: oldAddress },
  );
}

/** Links mailed to the address the account leaves, and any other pending confirmation, stop working. */
async function killLinks(stores: TransactionStores, userId: string, now: Date): Promise<void> {
  await stores.tokens.invalidateUserTokens(userId, 'email_verification', now);
  await stores.tokens.invalidateUserTokens(userId, 'password_reset', now);
  await stores.tokens.invalidateUserTokens(userId, 'email_change_confirm', now);
}

type EmailChangePurpose = 'email_change_confirm' | 'email_change_cancel';

const invalidLink = (): FlowError => new FlowError('invalid_token', 'Invalid or expired email change link');

/** The account a usable link belongs to and the address it carries; invalid_token otherwise. */
async function readLink(
  context: AccountContext,
  token: string,
  purpose: EmailChangePurpose,
): Promise<{ readonly userId: string; readonly address: EmailAddress }> {
  const pending = await findPending(context, token, purpose);
  const address = pending === null || pending.email === null ? null : parseEmailAddress(pending.email);
  if (pending === null || address === null) throw invalidLink();
  return { userId: pending.userId, address };
}

/**
 * Locks the account, then uses the link (invalid_token if it is no longer usable). The account first: a confirm
 * and a cancel link racing each other run one after the other, and the second finds its link dead.
 */
async function consumeLink(
  stores: TransactionStores,
  userId: string,
  token: string,
  purpose: EmailChangePurpose,
  now: Date,
): Promise<User> {
  const user = await stores.users.lockUserById(userId);
  if (user === null || (await stores.tokens.consumeToken(hashToken(token), purpose, now)) === null) {
    throw invalidLink();
  }
  return user;
}

async function findPending(context: AccountContext, token: string, purpose: EmailChangePurpose) {
  if (!isWellFormedToken(token)) return null;
  return context.tokens.findValidToken(hashToken(token), purpose, context.clock.now());
}
