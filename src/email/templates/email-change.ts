import { describeLinkValidity, type LocalisedEmail } from './layout.ts';

/** To the new address of an email change: only its owner can confirm the move. */
export const describeEmailChangeConfirmEmail: LocalisedEmail<'email_change_confirm'> = {
  en: ({ to, params }, productName) => ({
    subject: `Confirm your new ${productName} email address`,
    heading: 'Confirm your new email address',
    paragraphsBeforeLink: [
      `Someone signed in to a ${productName} account asked to change its email address to ${to}. To confirm, open this link:`,
    ],
    url: params.url,
    buttonLabel: 'Confirm the new address',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'en')} and works once. Confirming signs the account out everywhere.`,
      `If you did not ask, ignore this email: nothing changes.`,
    ],
  }),
  de: ({ to, params }, productName) => ({
    subject: `Bestätigen Sie Ihre neue ${productName}-E-Mail-Adresse`,
    heading: 'Bestätigen Sie Ihre neue E-Mail-Adresse',
    paragraphsBeforeLink: [
      `Jemand, der bei einem ${productName}-Konto angemeldet ist, möchte dessen E-Mail-Adresse in ${to} ändern. Öffnen Sie zur Bestätigung diesen Link:`,
    ],
    url: params.url,
    buttonLabel: 'Neue Adresse bestätigen',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'de')} und funktioniert einmal. Die Bestätigung meldet das Konto überall ab.`,
      `Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Es ändert sich nichts.`,
    ],
  }),
};

/**
 * To the old address: a change was asked for (the link voids it) or has just happened (the link undoes it,
 * ends every session and sends a reset link), so a change by someone else does not go unnoticed.
 */
export const describeEmailChangeNoticeEmail: LocalisedEmail<'email_change_notice'> = {
  en: ({ to, params }, productName) => ({
    subject: params.changed
      ? `The email address of your ${productName} account was changed`
      : `Someone asked to change the email address of your ${productName} account`,
    heading: params.changed ? 'Your email address was changed' : 'Email address change requested',
    paragraphsBeforeLink: [
      params.changed
        ? `The ${productName} account of ${to} has just been moved to another address, and every session was signed out.`
        : `Someone signed in to the ${productName} account of ${to} asked to move it to another address. Nothing changes until that address confirms.`,
      params.changed
        ? `If it was not you, take your account back: this link restores ${to}, signs everyone out and sends you a link to set a new password.`
        : `If it was not you, stop the change:`,
    ],
    url: params.url,
    buttonLabel: params.changed ? 'Take my account back' : 'Stop the change',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'en')} and works once.`,
      `If it was you, there is nothing to do.`,
    ],
  }),
  de: ({ to, params }, productName) => ({
    subject: params.changed
      ? `Die E-Mail-Adresse Ihres ${productName}-Kontos wurde geändert`
      : `Jemand möchte die E-Mail-Adresse Ihres ${productName}-Kontos ändern`,
    heading: params.changed
      ? 'Ihre E-Mail-Adresse wurde geändert'
      : 'Änderung der E-Mail-Adresse angefordert',
    paragraphsBeforeLink: [
      params.changed
        ? `Das ${productName}-Konto von ${to} wurde soeben auf eine andere Adresse umgestellt, und alle Sitzungen wurden abgemeldet.`
        : `Jemand, der beim ${productName}-Konto von ${to} angemeldet ist, möchte es auf eine andere Adresse umstellen. Es ändert sich nichts, bis diese Adresse bestätigt.`,
      params.changed
        ? `Wenn Sie das nicht waren, holen Sie sich Ihr Konto zurück: Dieser Link stellt ${to} wieder her, meldet alle ab und sendet Ihnen einen Link, um ein neues Passwort zu wählen.`
        : `Wenn Sie das nicht waren, stoppen Sie die Änderung:`,
    ],
    url: params.url,
    buttonLabel: params.changed ? 'Mein Konto zurückholen' : 'Änderung stoppen',
    paragraphsAfterLink: [
      `${describeLinkValidity(params.expiresAt, 'de')} und funktioniert einmal.`,
      `Wenn Sie es waren, ist nichts zu tun.`,
    ],
  }),
};

/** To the owner of a taken address someone tried to move another account to; nothing can be confirmed. */
export const describeEmailChangeAttemptedEmail: LocalisedEmail<'email_change_attempted'> = {
  en: ({ to, params }, productName) => ({
    subject: `Someone tried to move a ${productName} account to your address`,
    heading: 'Someone tried to use your address',
    paragraphsBeforeLink: [
      `Someone signed in to another ${productName} account asked to move it to ${to}. Your address already has an account, so nothing changed and nothing can be confirmed.`,
      `If you think someone knows your password, reset it:`,
    ],
    url: params.resetUrl,
    buttonLabel: 'Reset your password',
    paragraphsAfterLink: [`Otherwise there is nothing to do.`],
  }),
  de: ({ to, params }, productName) => ({
    subject: `Jemand wollte ein ${productName}-Konto auf Ihre Adresse umstellen`,
    heading: 'Jemand wollte Ihre Adresse verwenden',
    paragraphsBeforeLink: [
      `Jemand, der bei einem anderen ${productName}-Konto angemeldet ist, wollte es auf ${to} umstellen. Zu Ihrer Adresse gibt es bereits ein Konto, also hat sich nichts geändert, und nichts kann bestätigt werden.`,
      `Wenn Sie glauben, dass jemand Ihr Passwort kennt, setzen Sie es zurück:`,
    ],
    url: params.resetUrl,
    buttonLabel: 'Passwort zurücksetzen',
    paragraphsAfterLink: [`Andernfalls ist nichts zu tun.`],
  }),
};
