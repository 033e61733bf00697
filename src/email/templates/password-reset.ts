import { describeLinkValidity, type LocalisedEmail } from './layout.ts';

/** Answers a "forgot password" request; the link carries a single-use reset token. */
export const describePasswordResetEmail: LocalisedEmail<'password_reset'> = {
  en: ({ to, params }, productName) => ({
    subject: `Reset your ${productName} password`,
    heading: 'Reset your password',
    paragraphsBeforeLink: [
      `Someone asked to reset the ${productName} password for ${to}. To choose a new password, open this link:`,
    ],
    url: params.url,
    buttonLabel: 'Choose a new password',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'en')} and works once.`,
      `If you did not ask, ignore this email: your password stays as it is.`,
    ],
  }),
  de: ({ to, params }, productName) => ({
    subject: `Setzen Sie Ihr ${productName}-Passwort zurück`,
    heading: 'Passwort zurücksetzen',
    paragraphsBeforeLink: [
      `Jemand hat das Zurücksetzen des ${productName}-Passworts für ${to} angefordert. Öffnen Sie diesen Link, um ein neues Passwort zu wählen:`,
    ],
    url: params.url,
    buttonLabel: 'Neues Passwort wählen',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'de')} und funktioniert einmal.`,
      `Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist.`,
    ],
  }),
};
