import type { TokenEmail, TransactionStores } from './ports.ts';

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
