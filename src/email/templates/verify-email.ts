import { describeLinkValidity, type LocalisedEmail } from './layout.ts';

/** Sent after registration: proves the new account's owner reads this mailbox. */
export const describeVerifyEmail: LocalisedEmail<'verify_email'> = {
  en: ({ to, params }, productName) => ({
    subject: `Verify your email address for ${productName}`,
    heading: 'Verify your email address',
    paragraphsBeforeLink: [
      `Welcome to ${productName}. Confirm that ${to} is your email address by opening this link:`,
    ],
    url: params.url,
    buttonLabel: 'Verify email address',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'en')}.`,
      `If you did not create an account, ignore this email: nothing happens.`,
    ],
  }),
  de: ({ to, params }, productName) => ({
    subject: `Bestätigen Sie Ihre E-Mail-Adresse für ${productName}`,
    heading: 'Bestätigen Sie Ihre E-Mail-Adresse',
    paragraphsBeforeLink: [
      `Willkommen bei ${productName}. Bestätigen Sie mit diesem Link, dass ${to} Ihre E-Mail-Adresse ist:`,
    ],
    url: params.url,
    buttonLabel: 'E-Mail-Adresse bestätigen',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'de')}.`,
      `Wenn Sie kein Konto angelegt haben, ignorieren Sie diese E-Mail: Es passiert nichts.`,
    ],
  }),
};
