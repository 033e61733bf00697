import { describeLinkValidity, type DescribeEmail } from './layout.ts';

/** Sent after registration: proves the new account's owner reads this mailbox. */
export const describeVerifyEmail: DescribeEmail<'verify_email'> = ({ to, params }, productName) => ({
  subject: `Verify your email address for ${productName}`,
  heading: 'Verify your email address',
  paragraphsBeforeLink: [
    `Welcome to ${productName}. Confirm that ${to} is your email address by opening this link:`,
  ],
  url: params.url,
  buttonLabel: 'Verify email address',
  paragraphsAfterLink: [
    `${describeLinkValidity(params.expiresAt)}.`,
    `If you did not create an account, ignore this email: nothing happens.`,
  ],
});
