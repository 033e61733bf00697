import type { Locale } from '../security/locale.ts';

export interface User {
  readonly id: string;
  /** The address as the user typed it: where mail goes. */
  readonly email: string;
  /** NFKC + lower case: the key that makes addresses unique and matches them case-insensitively. */
  readonly emailKey: string;
  /** null when a contested registration removed it: only a password reset sets a new one. */
  readonly passwordHash: string | null;
  readonly isActive: boolean;
  readonly isVerified: boolean;
  readonly createdAt: Date;
  /**
   * When the owner deleted the account, or null. A deleted account is answered as an unknown address until
   * housekeeping removes it (ACCOUNT_DELETION_GRACE_DAYS later), unless a restore link brings it back.
   */
  readonly deletedAt: Date | null;
  /** The language of its pages and emails, chosen at registration; null (older accounts): DEFAULT_LOCALE. */
  readonly locale: Locale | null;
}

export type TokenPurpose =
  | 'email_verification'
  | 'password_reset'
  /** Sent to the new address of an email change; carries that address. */
  | 'email_change_confirm'
  /** Sent to the old address of an email change; carries that address, to void or undo the change. */
  | 'email_change_cancel'
  /** Sent when the owner deletes the account: brings it back within the grace period. */
  | 'account_restore';

/** A logged-in session. The token itself is never stored; `tokenHash` is its SHA-256. */
export interface Session {
  readonly tokenHash: string;
  readonly userId: string;
  readonly email: string;
  readonly isActive: boolean;
  readonly isVerified: boolean;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** When a request last used it, to within sessionActivityIntervalSeconds; createdAt until then. */
  readonly lastSeenAt: Date;
  /** The client address at login (as TRUST_PROXY resolves it); null for sessions from before it was kept. */
  readonly ip: string | null;
  /** The User-Agent header at login, truncated; null when there was none or for sessions from before. */
  readonly userAgent: string | null;
  /**
   * The refresh family that minted it (a login with a refresh token, or a refresh); null: none. Absent in
   * records stored before it was kept, and where the family store answers it anyway (PostgreSQL): then
   * whoever ends the session asks the family store.
   */
  readonly refreshFamilyId?: string | null;
}

/**
 * The link of an emailed token and when it stops working (ISO 8601, the token's own expiry), so the email
 * states the real deadline however late it is sent. `expiresAt` is absent only in messages queued by a
 * version that did not write it; those render without a deadline.
 */
export interface TokenLinkParams {
  readonly expiresAt?: string;
}

/**
 * Every email the service sends; parameters are filled in by the flows, rendering happens at dispatch, in the
 * recipient's `locale` as it was when the email was queued (absent: DEFAULT_LOCALE, as for messages queued by
 * older versions).
 */
export type EmailMessage = { readonly locale?: Locale } & (
  | {
      readonly template: 'verify_email';
      readonly to: string;
      readonly params: { readonly url: string } & TokenLinkParams;
    }
  | {
      readonly template: 'already_registered';
      readonly to: string;
      readonly params: { readonly resetUrl: string } & TokenLinkParams;
    }
  | {
      readonly template: 'password_reset';
      readonly to: string;
      readonly params: { readonly url: string } & TokenLinkParams;
    }
  | {
      readonly template: 'password_changed';
      readonly to: string;
      readonly params: { readonly resetUrl: string };
    }
  | {
      /** To the new address: confirm the change. */
      readonly template: 'email_change_confirm';
      readonly to: string;
      readonly params: { readonly url: string } & TokenLinkParams;
    }
  | {
      /** To the old address when a change is asked for (`changed` false) or done (`changed` true). */
      readonly template: 'email_change_notice';
      readonly to: string;
      readonly params: { readonly url: string; readonly changed: boolean } & TokenLinkParams;
    }
  | {
      /** To the owner of a deleted account: the restore link, or none when deletion is immediate. */
      readonly template: 'account_deleted';
      readonly to: string;
      readonly params: { readonly url: string | null } & TokenLinkParams;
    }
  | {
      /** To the owner of a taken address someone tried to move another account to. */
      readonly template: 'email_change_attempted';
      readonly to: string;
      readonly params: { readonly resetUrl: string };
    }
);

export type EmailTemplateName = EmailMessage['template'];

/**
 * The chain of refresh tokens one login started. Each refresh replaces the current token (generation + 1);
 * the family ends at `expiresAt` (absolute), after an idle lifetime without a refresh, or when revoked.
 */
export interface RefreshFamily {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** The last refresh (or the login that started the family): the idle lifetime runs from here. */
  readonly lastUsedAt: Date;
  /** The current token's generation: 0 for the login's, one more at every refresh. */
  readonly generation: number;
  /** When the current token was issued: the predecessor's grace window runs from here. */
  readonly rotatedAt: Date;
  readonly revokedAt: Date | null;
}
