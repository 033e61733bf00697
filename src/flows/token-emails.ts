import { secondsFrom } from './context.ts';
import type { EmailMessage, TokenPurpose } from './model.ts';
import type { Clock, TokenEmail, TransactionStores } from './ports.ts';
import { generateToken, hashToken } from '../security/tokens.ts';

export const emailVerificationTokenLifetimeSeconds = 24 * 60 * 60;
export const passwordResetTokenLifetimeSeconds = 60 * 60;
/** The link to the new address of an email change. */
export const emailChangeConfirmTokenLifetimeSeconds = 60 * 60;
/** The link to the old address: voids a pending change, or undoes a confirmed one, for this long. */
export const emailChangeCancelTokenLifetimeSeconds = 72 * 60 * 60;

/** How long a deleted account can be restored, unless ACCOUNT_DELETION_GRACE_DAYS says otherwise. */
export const defaultAccountDeletionGraceDays = 7;

const tokenLifetimeSeconds: Record<TokenPurpose, number> = {
  email_verification: emailVerificationTokenLifetimeSeconds,
  password_reset: passwordResetTokenLifetimeSeconds,
  email_change_confirm: emailChangeConfirmTokenLifetimeSeconds,
  email_change_cancel: emailChangeCancelTokenLifetimeSeconds,
  account_restore: defaultAccountDeletionGraceDays * 24 * 60 * 60,
};

/**
 * A fresh token of `purpose` and the email carrying it; nothing is stored yet. The email is given the token
 * and its expiry (ISO 8601): the message states the expiry the token really has, fixed when it was issued,
 * so a retry hours later, or one sent by a newer version with other lifetimes, never promises more. `email`
 * is stored with the token, for the purposes about an address (an email change's).
 */
export function prepareTokenEmail(
  clock: Clock,
  purpose: TokenPurpose,
  buildEmail: (token: string, expiresAt: string) => EmailMessage,
  options: { readonly email?: string; readonly lifetimeSeconds?: number } = {},
): TokenEmail {
  const token = generateToken();
  // `lifetimeSeconds` where the deployment decides (a restore link lives as long as the deletion grace period).
  const expiresAt = secondsFrom(clock.now(), options.lifetimeSeconds ?? tokenLifetimeSeconds[purpose]);
  return {
    token: {
      tokenHash: hashToken(token),
      purpose,
      expiresAt,
      ...(options.email === undefined ? {} : { email: options.email }),
    },
    email: buildEmail(token, expiresAt.toISOString()),
  };
}

/**
 * Inside the caller's transaction, what Transactor.issueTokenWithEmail does in one statement: for flows that
 * change other rows in the same transaction.
 */
export async function issueTokenWithEmailInTransaction(
  stores: TransactionStores,
  userId: string,
  { token, email }: TokenEmail,
  options: { readonly replacePrevious: boolean; readonly now: Date },
): Promise<void> {
  if (options.replacePrevious) await stores.tokens.invalidateUserTokens(userId, token.purpose, options.now);
  await stores.tokens.createToken({ ...token, userId });
  await stores.outbox.enqueueEmail(email);
}
