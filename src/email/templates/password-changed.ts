import { renderHtmlEmail, renderTextEmail, type RenderedEmail, type TemplateOptions } from './layout.ts';

/** Tells the owner after the fact, so a password changed by someone else does not go unnoticed. */
export function renderPasswordChangedEmail(
  to: string,
  params: { readonly resetUrl: string },
  options: TemplateOptions,
): RenderedEmail {
  const { productName } = options;
  const intro = [
    `The ${productName} password for ${to} was just changed, and every session was signed out.`,
    `If it was not you, reset your password now:`,
  ];
  const closing = `If it was you, there is nothing to do.`;
  return {
    subject: `Your ${productName} password was changed`,
    text: renderTextEmail({
      productName,
      paragraphsBeforeLink: intro,
      url: params.resetUrl,
      paragraphsAfterLink: [closing],
    }),
    html: renderHtmlEmail({
      productName,
      heading: 'Your password was changed',
      introParagraphs: intro,
      button: { label: 'Reset your password', url: params.resetUrl },
      closingParagraphs: [closing],
      recipient: to,
    }),
  };
}
