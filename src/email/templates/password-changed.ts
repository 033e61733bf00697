import type { DescribeEmail } from './layout.ts';

/** Tells the owner after the fact, so a password changed by someone else does not go unnoticed. */
export const describePasswordChangedEmail: DescribeEmail<'password_changed'> = (
  { to, params },
  productName,
) => ({
  subject: `Your ${productName} password was changed`,
  heading: 'Your password was changed',
  paragraphsBeforeLink: [
    `The ${productName} password for ${to} was just changed, and every session was signed out.`,
    `If it was not you, reset your password now:`,
  ],
  url: params.resetUrl,
  buttonLabel: 'Reset your password',
  paragraphsAfterLink: [`If it was you, there is nothing to do.`],
});
