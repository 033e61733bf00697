import { describeLinkValidity, type DescribeEmail } from './layout.ts';

/**
 * Sent instead of a verification email when the address already has an account: the registration page
 * answers the same either way, so only the mailbox owner learns that the account exists.
 */
export const describeAlreadyRegisteredEmail: DescribeEmail<'already_registered'> = (
  { to, params },
  productName,
) => ({
  subject: `You already have a ${productName} account`,
  heading: 'You already have an account',
  paragraphsBeforeLink: [
    `Someone, maybe you, tried to register with ${productName} using ${to}.`,
    `You already have an account with this address. If you forgot your password, or never finished signing up, set a new password here:`,
  ],
  url: params.resetUrl,
  buttonLabel: 'Reset your password',
  paragraphsAfterLink: [
    `${describeLinkValidity(params.expiresAt)}.`,
    `If it was not you, ignore this email: nobody can use the link but you.`,
  ],
});
