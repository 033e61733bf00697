import {
  passwordResetLinkLifetimeHours,
  renderHtmlEmail,
  renderTextEmail,
  type RenderedEmail,
  type TemplateOptions,
} from './layout.ts';

/** Answers a "forgot password" request; the link carries a single-use reset token. */
export function renderPasswordResetEmail(
  to: string,
  params: { readonly url: string },
  options: TemplateOptions,
): RenderedEmail {
  const { productName } = options;
  const intro = `Someone asked to reset the ${productName} password for ${to}. To choose a new password, open this link:`;
  const validity = `The link is valid for ${passwordResetLinkLifetimeHours} hour and works once.`;
  const notYou = `If you did not ask, ignore this email: your password stays as it is.`;
  return {
    subject: `Reset your ${productName} password`,
    text: renderTextEmail({
      productName,
      paragraphsBeforeLink: [intro],
      url: params.url,
      paragraphsAfterLink: [validity, notYou],
    }),
    html: renderHtmlEmail({
      productName,
      heading: 'Reset your password',
      introParagraphs: [intro],
      button: { label: 'Choose a new password', url: params.url },
      closingParagraphs: [validity, notYou],
      recipient: to,
    }),
  };
}
