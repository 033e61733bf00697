import { describeLinkValidity, type DescribeEmail } from './layout.ts';

/** Answers a "forgot password" request; the link carries a single-use reset token. */
export const describePasswordResetEmail: DescribeEmail<'password_reset'> = ({ to, params }, productName) => ({
  subject: `Reset your ${productName} password`,
  heading: 'Reset your password',
  paragraphsBeforeLink: [
    `Someone asked to reset the ${productName} password for ${to}. To choose a new password, open this link:`,
  ],
  url: params.url,
  buttonLabel: 'Choose a new password',
  paragraphsAfterLink: [
    `${describeLinkValidity(params.expiresAt)} and works once.`,
    `If you did not ask, ignore this email: your password stays as it is.`,
  ],
});
