import type { EmailMessage, EmailTemplateName } from '../../flows/model.ts';
import { escapeHtml } from '../../security/html-escape.ts';

/** What every template produces: one subject, a plain-text part and an HTML part saying the same thing. */
export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface TemplateOptions {
  readonly productName: string;
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

/** What the email for one template says, given its message and the product's name. */
export type DescribeEmail<Template extends EmailTemplateName> = (
  message: Extract<EmailMessage, { readonly template: Template }>,
  productName: string,
) => LinkEmailContent;

/** What an email with one link says, in the order both parts show it. */
export interface LinkEmailContent {
  readonly subject: string;
  /** The HTML part's heading and title. */
  readonly heading: string;
  readonly paragraphsBeforeLink: readonly string[];
  /** null: an email without a link (the notice of a deletion that cannot be undone). */
  readonly url: string | null;
  readonly buttonLabel: string;
  readonly paragraphsAfterLink: readonly string[];
}

/** Both parts of an email built around one link: every template is one of these. */
export function renderLinkEmail(
  to: string,
  content: LinkEmailContent,
  { productName }: TemplateOptions,
): RenderedEmail {
  return {
    subject: content.subject,
    text: renderTextEmail({
      productName,
      paragraphsBeforeLink: content.paragraphsBeforeLink,
      url: content.url,
      paragraphsAfterLink: content.paragraphsAfterLink,
    }),
    html: renderHtmlEmail({
      productName,
      heading: content.heading,
      introParagraphs: content.paragraphsBeforeLink,
      button: content.url === null ? null : { label: content.buttonLabel, url: content.url },
      closingParagraphs: content.paragraphsAfterLink,
      recipient: to,
    }),
  };
}

const monthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * "The link is valid until 21:15 UTC on 30 November 2026": the token's own expiry, which the flow wrote into
 * the message, rounded down to the minute so the email never promises a moment the link no longer works. A
 * message without one (queued by an older version) promises no deadline rather than a guessed one.
 */
export function describeLinkValidity(expiresAt: string | undefined): string {
  const deadline = expiresAt === undefined ? Number.NaN : Date.parse(expiresAt);
  if (Number.isNaN(deadline)) return 'The link is valid for a limited time';
  const date = new Date(deadline);
  const time = [date.getUTCHours(), date.getUTCMinutes()].map((part) => String(part).padStart(2, '0'));
  const day = `${date.getUTCDate()} ${monthNames[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
  return `The link is valid until ${time.join(':')} UTC on ${day}`;
}

export interface HtmlEmailContent {
  readonly productName: string;
  readonly heading: string;
  readonly introParagraphs: readonly string[];
  readonly button: { readonly label: string; readonly url: string } | null;
  readonly closingParagraphs: readonly string[];
  readonly recipient: string;
}

/**
 * Every value arrives as plain text and is escaped here, in one place, so no template can forget to.
 * Inline styles and a table because many mail clients ignore <style> blocks.
 */
export function renderHtmlEmail(content: HtmlEmailContent): string {
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
    ...(content.button === null ? [] : renderHtmlButton(content.button)),
    ...content.closingParagraphs.map(paragraph),
    `<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#7b8794;">This email was sent to ${escapeHtml(content.recipient)} by ${escapeHtml(content.productName)}.</p>`,
    '</td></tr></table>',
    '</td></tr></table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function renderHtmlButton(button: { readonly label: string; readonly url: string }): string[] {
  const url = escapeHtml(assertEmailLink(button.url));
  return [
    '<p style="margin:24px 0;">',
    `<a href="${url}" style="display:inline-block;padding:12px 24px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;font-size:16px;font-weight:bold;">${escapeHtml(button.label)}</a>`,
    '</p>',
    '<p style="margin:0 0 16px;font-size:14px;line-height:20px;color:#52606d;">If the button does not work, copy this link into your browser:</p>',
    `<p style="margin:0 0 24px;font-size:14px;line-height:20px;word-break:break-all;"><a href="${url}" style="color:#2563eb;">${url}</a></p>`,
  ];
}

/** Plain text with the link alone on its line, so terminals and mail clients make it clickable whole. */
export function renderTextEmail(content: {
  readonly productName: string;
  readonly paragraphsBeforeLink: readonly string[];
  readonly url: string | null;
  readonly paragraphsAfterLink: readonly string[];
}): string {
  return (
    [
      ...content.paragraphsBeforeLink,
      ...(content.url === null ? [] : [assertEmailLink(content.url)]),
      ...content.paragraphsAfterLink,
      `-- ${content.productName}`,
    ].join('\n\n') + '\n'
  );
}
