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
}

export type TokenPurpose = 'email_verification' | 'password_reset';

/** A logged-in session. The token itself is never stored; `tokenHash` is its SHA-256. */
export interface Session {
  readonly tokenHash: string;
  readonly userId: string;
  readonly email: string;
  readonly isActive: boolean;
  readonly isVerified: boolean;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** Every email the service sends; parameters are filled in by the flows, rendering happens at dispatch. */
export type EmailMessage =
  | { readonly template: 'verify_email'; readonly to: string; readonly params: { readonly url: string } }
  | {
      readonly template: 'already_registered';
      readonly to: string;
      readonly params: { readonly resetUrl: string };
    }
  | { readonly template: 'password_reset'; readonly to: string; readonly params: { readonly url: string } }
  | {
      readonly template: 'password_changed';
      readonly to: string;
      readonly params: { readonly resetUrl: string };
    };

export type EmailTemplateName = EmailMessage['template'];
