import { localeField } from '../security/locale.ts';
import { recordAuditEvent, type AuditEventName } from './audit.ts';
import type { AccountContext } from './context.ts';
import { checkCurrentPassword, findLiveUser } from './current-password.ts';
import { FlowError } from './errors.ts';
import { endUserSessions } from './sessions.ts';
import type { TokenPurpose, User } from './model.ts';
import {
  issueTokenWithEmailInTransaction,
  prepareTokenEmail,
  defaultAccountDeletionGraceDays,
} from './token-emails.ts';
import { hashToken, isWellFormedToken } from '../security/tokens.ts';

const secondsPerDay = 24 * 60 * 60;
const everyPurpose: readonly TokenPurpose[] = [
  'email_verification',
  'password_reset',
  'email_change_confirm',
  'email_change_cancel',
  'account_restore',
];

/**
 * Deletes the account (the current password is required): at once every session ends, every link dies, and
 * the address answers as an unknown one. The owner gets one email with a restore link valid for the grace
 * period (ACCOUNT_DELETION_GRACE_DAYS); housekeeping removes the account after it. Webhook receivers hear
 * user.deletion_scheduled now (the audit event), user.deletion_cancelled on a restore, and user.deleted only
 * from the removal.
 */
export async function deleteAccount(
  context: AccountContext,
  userId: string,
  currentPassword: string,
): Promise<void> {
  const user = await findLiveUser(context, userId);
  await checkCurrentPassword(context, user, currentPassword);
  await markAccountDeleted(context, user, 'account_deletion_requested');
}

/**
 * What a deletion does once it is decided (by the owner, or by an operator: the same grace and restore
 * link), recorded as `event` in the same transaction.
 */
export async function markAccountDeleted(
  context: AccountContext,
  user: Pick<User, 'id' | 'email' | 'locale'>,
  event: AuditEventName,
): Promise<void> {
  const graceDays = context.accountDeletionGraceDays ?? defaultAccountDeletionGraceDays;
  // Before as well as after: if the session store is down, nothing is deleted (503).
  await endUserSessions(context, user.id);
  await context.transactor.runInTransaction(async (stores) => {
    const now = context.clock.now();
    await stores.users.markUserDeleted(user.id, now);
    await recordAuditEvent(stores.audit, { event, outcome: 'success', userId: user.id }, now);
    for (const purpose of everyPurpose) await stores.tokens.invalidateUserTokens(user.id, purpose, now);
    if (graceDays === 0) {
      await stores.outbox.enqueueEmail({
        template: 'account_deleted',
        to: user.email,
        ...localeField(user.locale),
        params: { url: null },
      });
      return;
    }
    const restore = prepareTokenEmail(
      context.clock,
      'account_restore',
      (token, expiresAt) => ({
        template: 'account_deleted',
        to: user.email,
        ...localeField(user.locale),
        params: { url: context.links.restoreAccountUrl(token), expiresAt },
      }),
      { lifetimeSeconds: graceDays * secondsPerDay },
    );
    await issueTokenWithEmailInTransaction(stores, user.id, restore, { replacePrevious: true, now });
  });
  await endUserSessions(context, user.id);
}

/** Whether a restore link is still usable, for its page; changes nothing. */
export async function checkAccountRestoreToken(context: AccountContext, token: string): Promise<boolean> {
  if (!isWellFormedToken(token)) return false;
  return (
    (await context.tokens.findValidToken(hashToken(token), 'account_restore', context.clock.now())) !== null
  );
}

/**
 * Brings a deleted account back as it was (address, password, verified state); the restore link ends. Does
 * not log in. Returns the account's id.
 */
export async function restoreAccount(context: AccountContext, token: string): Promise<string> {
  const invalid = new FlowError('invalid_token', 'Invalid or expired restore link');
  if (!isWellFormedToken(token)) throw invalid;
  const pending = await context.tokens.findValidToken(
    hashToken(token),
    'account_restore',
    context.clock.now(),
  );
  if (pending === null) throw invalid;
  await context.transactor.runInTransaction(async (stores) => {
    const now = context.clock.now();
    // The row first: housekeeping skips a locked account, so it cannot remove one being restored.
    const user = await stores.users.lockUserById(pending.userId);
    if (user === null) throw invalid;
    if ((await stores.tokens.consumeToken(hashToken(token), 'account_restore', now)) === null) throw invalid;
    if (!(await stores.users.restoreUser(user.id))) throw invalid;
    await recordAuditEvent(
      stores.audit,
      { event: 'account_deletion_cancelled', outcome: 'success', userId: user.id },
      now,
    );
  });
  return pending.userId;
}
