import {
  passwordResetLinkLifetimeHours,
  renderHtmlEmail,
  renderTextEmail,
  type RenderedEmail,
  type TemplateOptions,
} from './layout.ts';

/**
 * Sent instead of a verification email when the address already has an account: the registration page
 * answers the same either way, so only the mailbox owner learns that the account exists.
 */
export function renderAlreadyRegisteredEmail(
  to: string,
  params: { readonly resetUrl: string },
  options: TemplateOptions,
): RenderedEmail {
  const { productName } = options;
  const intro = [
    `Someone, maybe you, tried to register with ${productName} using ${to}.`,
    `You already have an account with this address. If you forgot your password, or never finished signing up, set a new password here:`,
  ];
  const validity = `The link is valid for ${passwordResetLinkLifetimeHours} hour.`;
  const notYou = `If it was not you, ignore this email: nobody can use the link but you.`;
  return {
    subject: `You already have a ${productName} account`,
    text: renderTextEmail({
      productName,
      paragraphsBeforeLink: intro,
      url: params.resetUrl,
      paragraphsAfterLink: [validity, notYou],
    }),
    html: renderHtmlEmail({
      productName,
      heading: 'You already have an account',
      introParagraphs: intro,
      button: { label: 'Reset your password', url: params.resetUrl },
      closingParagraphs: [validity, notYou],
      recipient: to,
    }),
  };
}
