import { describeLinkValidity, type LocalisedEmail } from './layout.ts';

/** Tells the owner the account is gone, with the link that brings it back during the grace period. */
export const describeAccountDeletedEmail: LocalisedEmail<'account_deleted'> = {
  en: ({ to, params }, productName) => ({
    subject: `Your ${productName} account was deleted`,
    heading: 'Your account was deleted',
    paragraphsBeforeLink: [
      `The ${productName} account of ${to} was just deleted, and every session was signed out.`,
      params.url === null
        ? `It cannot be restored. You can register this address again at any time.`
        : `Changed your mind, or was it not you? This link brings the account back as it was:`,
    ],
    url: params.url,
    buttonLabel: 'Restore my account',
    paragraphsAfterLink:
      params.url === null
        ? []
        : [
            `${describeLinkValidity(params.expiresAt, 'en')} and works once. After that the account and its data are removed for good.`,
          ],
  }),
  de: ({ to, params }, productName) => ({
    subject: `Ihr ${productName}-Konto wurde gelöscht`,
    heading: 'Ihr Konto wurde gelöscht',
    paragraphsBeforeLink: [
      `Das ${productName}-Konto von ${to} wurde soeben gelöscht, und alle Sitzungen wurden abgemeldet.`,
      params.url === null
        ? `Es kann nicht wiederhergestellt werden. Sie können diese Adresse jederzeit neu registrieren.`
        : `Haben Sie es sich anders überlegt, oder waren Sie es nicht? Dieser Link stellt das Konto wieder her, wie es war:`,
    ],
    url: params.url,
    buttonLabel: 'Mein Konto wiederherstellen',
    paragraphsAfterLink:
      params.url === null
        ? []
        : [
            `${describeLinkValidity(params.expiresAt, 'de')} und funktioniert einmal. Danach werden das Konto und seine Daten endgültig entfernt.`,
          ],
  }),
};
