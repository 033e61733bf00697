import type { LocalisedEmail } from './layout.ts';

/** Tells the owner after the fact, so a password changed by someone else does not go unnoticed. */
export const describePasswordChangedEmail: LocalisedEmail<'password_changed'> = {
  en: ({ to, params }, productName) => ({
    subject: `Your ${productName} password was changed`,
    heading: 'Your password was changed',
    paragraphsBeforeLink: [
      `The ${productName} password for ${to} was just changed, and every session was signed out.`,
      `If it was not you, reset your password now:`,
    ],
    url: params.resetUrl,
    buttonLabel: 'Reset your password',
    paragraphsAfterLink: [`If it was you, there is nothing to do.`],
  }),
  de: ({ to, params }, productName) => ({
    subject: `Ihr ${productName}-Passwort wurde geändert`,
    heading: 'Ihr Passwort wurde geändert',
    paragraphsBeforeLink: [
      `Das ${productName}-Passwort für ${to} wurde soeben geändert, und alle Sitzungen wurden abgemeldet.`,
      `Wenn Sie das nicht waren, setzen Sie Ihr Passwort jetzt zurück:`,
    ],
    url: params.resetUrl,
    buttonLabel: 'Passwort zurücksetzen',
    paragraphsAfterLink: [`Wenn Sie es waren, ist nichts zu tun.`],
  }),
};
