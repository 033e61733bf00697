import {
  renderHtmlEmail,
  renderTextEmail,
  verificationLinkLifetimeHours,
  type RenderedEmail,
  type TemplateOptions,
} from './layout.ts';

/** Sent after registration: proves the new account's owner reads this mailbox. */
export function renderVerifyEmail(
  to: string,
  params: { readonly url: string },
  options: TemplateOptions,
): RenderedEmail {
  const { productName } = options;
  const intro = `Welcome to ${productName}. Confirm that ${to} is your email address by opening this link:`;
  const validity = `The link is valid for ${verificationLinkLifetimeHours} hours.`;
  const notYou = `If you did not create an account, ignore this email: nothing happens.`;
  return {
    subject: `Verify your email address for ${productName}`,
    text: renderTextEmail({
      productName,
      paragraphsBeforeLink: [intro],
      url: params.url,
      paragraphsAfterLink: [validity, notYou],
    }),
    html: renderHtmlEmail({
      productName,
      heading: 'Verify your email address',
      introParagraphs: [intro],
      button: { label: 'Verify email address', url: params.url },
      closingParagraphs: [validity, notYou],
      recipient: to,
    }),
  };
}
