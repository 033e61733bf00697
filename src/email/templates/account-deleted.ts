import { describeLinkValidity, type DescribeEmail } from './layout.ts';

/** Tells the owner the account is gone, with the link that brings it back during the grace period. */
export const describeAccountDeletedEmail: DescribeEmail<'account_deleted'> = (
  { to, params },
  productName,
) => ({
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
          `${describeLinkValidity(params.expiresAt)} and works once. After that the account and its data are removed for good.`,
        ],
});
