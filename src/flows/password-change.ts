import { localeField } from '../security/locale.ts';
import { mayEmailRecipient } from './attempt-budgets.ts';
import { recordAuditEvent } from './audit.ts';
import { checkCurrentPassword, findLiveUser } from './current-password.ts';
import { passwordHasherOf, type AccountContext } from './context.ts';
import type { Session } from './model.ts';
import { assertAcceptablePassword } from './password-rules.ts';
import { endUserSessions } from './sessions.ts';

/**
 * A signed-in person changes their password. The current password is required (re-authentication: a stolen
 * session alone cannot take the account over), and a wrong one spends the account's login budget, so the
 * route is no way around the login lockout. On success every other session of the account ends, the caller's
 * stays, open reset and verification links die, and the owner is told by email.
 *
 * A login that checked the old password while this change commits cannot leave a live session: the change
 * ends the other sessions after the new hash is committed, and a login re-reads the hash after storing its
 * session (see logIn), so its session is either stored before that clean-up or deleted by the login itself.
 */
export async function changePassword(
  context: AccountContext,
  session: Session,
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  const user = await findLiveUser(context, session.userId);
  await checkCurrentPassword(context, user, currentPassword);
  assertAcceptablePassword(context.passwordPolicy, newPassword, user.emailKey);
  const passwordHash = await passwordHasherOf(context).hashPassword(newPassword);
  const notify = await mayEmailRecipient(context, user.emailKey);
  // Ended before the change too: if the session store is down, the change fails as a whole (503) instead of
  // changing the password while the other sessions live on.
  await endUserSessions(context, user.id, session);
  await context.transactor.runInTransaction(async (stores) => {
    const now = context.clock.now();
    await stores.users.setUserPasswordHash(user.id, passwordHash);
    await recordAuditEvent(
      stores.audit,
      { event: 'password_change', outcome: 'success', userId: user.id },
      now,
    );
    await stores.tokens.invalidateUserTokens(user.id, 'password_reset', now);
    await stores.tokens.invalidateUserTokens(user.id, 'email_verification', now);
    if (notify) {
      await stores.outbox.enqueueEmail({
        template: 'password_changed',
        to: user.email,
        ...localeField(user.locale),
        params: { resetUrl: context.links.requestPasswordResetUrl() },
      });
    }
  });
  // And after: a session a login stored while the change committed ends here (or the login ends it itself).
  await endUserSessions(context, user.id, session);
}
