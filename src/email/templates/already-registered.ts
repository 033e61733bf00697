import { describeLinkValidity, type LocalisedEmail } from './layout.ts';

/**
 * Sent instead of a verification email when the address already has an account: the registration page
 * answers the same either way, so only the mailbox owner learns that the account exists.
 */
export const describeAlreadyRegisteredEmail: LocalisedEmail<'already_registered'> = {
  en: ({ to, params }, productName) => ({
    subject: `You already have a ${productName} account`,
    heading: 'You already have an account',
    paragraphsBeforeLink: [
      `Someone, maybe you, tried to register with ${productName} using ${to}.`,
      `You already have an account with this address. If you forgot your password, or never finished signing up, set a new password here:`,
    ],
    url: params.resetUrl,
    buttonLabel: 'Reset your password',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'en')}.`,
      `If it was not you, ignore this email: nobody can use the link but you.`,
    ],
  }),
  de: ({ to, params }, productName) => ({
    subject: `Sie haben bereits ein ${productName}-Konto`,
    heading: 'Sie haben bereits ein Konto',
    paragraphsBeforeLink: [
      `Jemand, vielleicht Sie, wollte sich mit ${to} bei ${productName} registrieren.`,
      `Zu dieser Adresse gibt es bereits ein Konto. Wenn Sie Ihr Passwort vergessen oder die Registrierung nie abgeschlossen haben, wählen Sie hier ein neues Passwort:`,
    ],
    url: params.resetUrl,
    buttonLabel: 'Passwort zurücksetzen',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'de')}.`,
      `Wenn Sie das nicht waren, ignorieren Sie diese E-Mail: Niemand außer Ihnen kann den Link verwenden.`,
    ],
  }),
};
