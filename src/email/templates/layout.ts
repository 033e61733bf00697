/** What every template produces: one subject, a plain-text part and an HTML part saying the same thing. */
export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface TemplateOptions {
  readonly productName: string;
}

/** Lifetimes the emails promise; they must match the token lifetimes the flows set. */
export const verificationLinkLifetimeHours = 24;
export const passwordResetLinkLifetimeHours = 1;

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => htmlEscapes[character] ?? character);
}

/**
 * Only http(s) links may be emailed: a `javascript:` or `data:` URL behind a trusted-looking button would
 * turn a corrupted outbox row into a phishing email sent in our name.
 */
export function assertEmailLink(url: string): string {
  const protocol = URL.canParse(url) ? new URL(url).protocol : '';
  if (protocol !== 'https:' && protocol !== 'http:')
    throw new Error('an emailed link must be an absolute http(s) URL');
  return url;
}

export interface HtmlEmailContent {
  readonly productName: string;
  readonly heading: string;
  readonly introParagraphs: readonly string[];
  readonly button: { readonly label: string; readonly url: string };
  readonly closingParagraphs: readonly string[];
  readonly recipient: string;
}

/**
 * Every value arrives as plain text and is escaped here, in one place, so no template can forget to.
 * Inline styles and a table because many mail clients ignore <style> blocks.
 */
export function renderHtmlEmail(content: HtmlEmailContent): string {
  const url = escapeHtml(assertEmailLink(content.button.url));
  const paragraph = (value: string): string =>
    `<p style="margin:0 0 16px;font-size:16px;line-height:24px;color:#1f2933;">${escapeHtml(value)}</p>`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(content.heading)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">',
    '<tr><td align="center">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;padding:32px;">',
    '<tr><td>',
    `<p style="margin:0 0 8px;font-size:14px;color:#52606d;">${escapeHtml(content.productName)}</p>`,
    `<h1 style="margin:0 0 24px;font-size:22px;line-height:30px;color:#1f2933;">${escapeHtml(content.heading)}</h1>`,
    ...content.introParagraphs.map(paragraph),
    '<p style="margin:24px 0;">',
    `<a href="${url}" style="display:inline-block;padding:12px 24px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;font-size:16px;font-weight:bold;">${escapeHtml(content.button.label)}</a>`,
    '</p>',
    '<p style="margin:0 0 16px;font-size:14px;line-height:20px;color:#52606d;">If the button does not work, copy this link into your browser:</p>',
    `<p style="margin:0 0 24px;font-size:14px;line-height:20px;word-break:break-all;"><a href="${url}" style="color:#2563eb;">${url}</a></p>`,
    ...content.closingParagraphs.map(paragraph),
    `<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#7b8794;">This email was sent to ${escapeHtml(content.recipient)} by ${escapeHtml(content.productName)}.</p>`,
    '</td></tr></table>',
    '</td></tr></table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Plain text with the link alone on its line, so terminals and mail clients make it clickable whole. */
export function renderTextEmail(content: {
  readonly productName: string;
  readonly paragraphsBeforeLink: readonly string[];
  readonly url: string;
  readonly paragraphsAfterLink: readonly string[];
}): string {
  return (
    [
      ...content.paragraphsBeforeLink,
      assertEmailLink(content.url),
      ...content.paragraphsAfterLink,
      `-- ${content.productName}`,
    ].join('\n\n') + '\n'
  );
}
