import type { User } from './model.ts';

/** Where an address stands, as docs/flows.md draws it; whether the account is disabled is not part of it. */
export type AddressState = 'unverified' | 'contested' | 'verified';

/** The state of an account, as docs/flows.md draws it. */
export type AccountState = AddressState | 'disabled';

/**
 * - unverified: a password, but the mailbox is not proven yet;
 * - contested: registered twice with different passwords before anyone proved the mailbox, so the password
 *   was removed and only a reset link (sent to the mailbox) can set one;
 * - verified: the mailbox is proven (by a verification link or a password reset).
 */
export function addressState(user: Pick<User, 'isVerified' | 'passwordHash'>): AddressState {
  if (user.isVerified) return 'verified';
  return user.passwordHash === null ? 'contested' : 'unverified';
}

/**
 * The address's state, unless an operator disabled the account (is_active false: `POST /admin/users/{id}/disable` or `npm run admin -- users disable`). Login and
 * a reset request refuse a disabled account; registration and resend-verification look only at the address
 * (`addressState`), so they answer a disabled account as its address state says.
 */
export function accountState(user: Pick<User, 'isActive' | 'isVerified' | 'passwordHash'>): AccountState {
  return user.isActive ? addressState(user) : 'disabled';
}
