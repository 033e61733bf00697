import { describeLinkValidity, type DescribeEmail } from './layout.ts';

/** To the new address of an email change: only its owner can confirm the move. */
export const describeEmailChangeConfirmEmail: DescribeEmail<'email_change_confirm'> = (
  { to, params },
  productName,
) => ({
  subject: `Confirm your new ${productName} email address`,
  heading: 'Confirm your new email address',
  paragraphsBeforeLink: [
    `Someone signed in to a ${productName} account asked to change its email address to ${to}. To confirm, open this link:`,
  ],
  url: params.url,
  buttonLabel: 'Confirm the new address',
  paragraphsAfterLink: [
    `${describeLinkValidity(params.expiresAt)} and works once. Confirming signs the account out everywhere.`,
    `If you did not ask, ignore this email: nothing changes.`,
  ],
});

/**
 * To the old address: a change was asked for (the link voids it) or has just happened (the link undoes it,
 * ends every session and sends a reset link), so a change by someone else does not go unnoticed.
 */
export const describeEmailChangeNoticeEmail: DescribeEmail<'email_change_notice'> = (
  { to, params },
  productName,
) => ({
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
    `${describeLinkValidity(params.expiresAt)} and works once.`,
    `If it was you, there is nothing to do.`,
  ],
});

/** To the owner of a taken address someone tried to move another account to; nothing can be confirmed. */
export const describeEmailChangeAttemptedEmail: DescribeEmail<'email_change_attempted'> = (
  { to, params },
  productName,
) => ({
  subject: `Someone tried to move a ${productName} account to your address`,
  heading: 'Someone tried to use your address',
  paragraphsBeforeLink: [
    `Someone signed in to another ${productName} account asked to move it to ${to}. Your address already has an account, so nothing changed and nothing can be confirmed.`,
    `If you think someone knows your password, reset it:`,
  ],
  url: params.resetUrl,
  buttonLabel: 'Reset your password',
  paragraphsAfterLink: [`Otherwise there is nothing to do.`],
});
