import type { EmailMessage, EmailTemplateName } from '../../flows/model.ts';
import { escapeHtml } from '../../security/html-escape.ts';
import type { Locale } from '../../security/locale.ts';
import type { EmailTemplateFiles } from './files.ts';

/** What every template produces: one subject, a plain-text part and an HTML part saying the same thing. */
export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface TemplateOptions {
  readonly productName: string;
  /** The language of a message queued without one (DEFAULT_LOCALE); English when not given. */
  readonly defaultLocale?: Locale;
  /** The operator's template files (EMAIL_TEMPLATES_DIR); a part without one is the built-in part. */
  readonly templateFiles?: EmailTemplateFiles;
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

/**
 * The link with `lang=<locale>` added, so the page it opens speaks the email's language whatever the browser
 * asks for. Appended to the text rather than rebuilt through URL, which would re-encode the rest of the link;
 * a link that already names a language keeps it.
 */
export function addLanguageToLink(url: string, locale: Locale): string {
  assertEmailLink(url);
  if (new URL(url).searchParams.has('lang')) return url;
  const fragmentStart = url.indexOf('#');
  const [beforeFragment, fragment] =
    fragmentStart === -1 ? [url, ''] : [url.slice(0, fragmentStart), url.slice(fragmentStart)];
  const separator = !beforeFragment.includes('?') ? '?' : /[?&]$/.test(beforeFragment) ? '' : '&';
  return `${beforeFragment}${separator}lang=${locale}${fragment}`;
}

/** What the email for one template says in one language, given its message and the product's name. */
export type DescribeEmail<Template extends EmailTemplateName> = (
  message: Extract<EmailMessage, { readonly template: Template }>,
  productName: string,
) => LinkEmailContent;

/**
 * One template in every language: the catalogue is keyed by template and locale, so one email in one language
 * can be replaced on its own (an operator's template file, say) without touching the others.
 */
export type LocalisedEmail<Template extends EmailTemplateName> = Readonly<
  Record<Locale, DescribeEmail<Template>>
>;

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
  locale: Locale = 'en',
): RenderedEmail {
  const url = content.url === null ? null : addLanguageToLink(content.url, locale);
  return {
    subject: content.subject,
    text: renderTextEmail({
      productName,
      paragraphsBeforeLink: content.paragraphsBeforeLink,
      url,
      paragraphsAfterLink: content.paragraphsAfterLink,
    }),
    html: renderHtmlEmail({
      productName,
      heading: content.heading,
      introParagraphs: content.paragraphsBeforeLink,
      button: url === null ? null : { label: content.buttonLabel, url },
      closingParagraphs: content.paragraphsAfterLink,
      recipient: to,
      locale,
    }),
  };
}

/** The words of an email's frame (around what each template says), per language. */
const frameWords: Readonly<
  Record<
    Locale,
    {
      readonly validUntil: (time: string, day: string) => string;
      readonly validForAWhile: string;
      readonly buttonFallback: string;
      readonly sentTo: (recipient: string, productName: string) => string;
    }
  >
> = {
  en: {
    validUntil: (time, day) => `The link is valid until ${time} UTC on ${day}`,
    validForAWhile: 'The link is valid for a limited time',
    buttonFallback: 'If the button does not work, copy this link into your browser:',
    sentTo: (recipient, productName) => `This email was sent to ${recipient} by ${productName}.`,
  },
  de: {
    validUntil: (time, day) => `Der Link ist gültig bis ${time} UTC am ${day}`,
    validForAWhile: 'Der Link ist nur eine begrenzte Zeit gültig',
    buttonFallback: 'Falls die Schaltfläche nicht funktioniert, kopieren Sie diesen Link in Ihren Browser:',
    sentTo: (recipient, productName) => `Diese E-Mail wurde von ${productName} an ${recipient} gesendet.`,
  },
};

/** The Intl locale of each language's dates: `en-GB` writes "9 March 2026", `de-DE` "9. März 2026". */
const dateLocales: Readonly<Record<Locale, string>> = { en: 'en-GB', de: 'de-DE' };

/**
 * "The link is valid until 21:15 UTC on 30 November 2026" (German: "… bis 21:15 UTC am 30. November 2026"):
 * the token's own expiry, which the flow wrote into the message, in UTC (said so), rounded down to the minute so
 * the email never promises a moment the link no longer works. A message without one (queued by an older
 * version) promises no deadline rather than a guessed one.
 */
export function describeLinkValidity(expiresAt: string | undefined, locale: Locale = 'en'): string {
  const deadline = expiresAt === undefined ? Number.NaN : Date.parse(expiresAt);
  const words = frameWords[locale];
  if (Number.isNaN(deadline)) return words.validForAWhile;
  const date = new Date(deadline - (deadline % 60_000));
  const time = new Intl.DateTimeFormat(dateLocales[locale], {
    timeZone: 'UTC',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  const day = new Intl.DateTimeFormat(dateLocales[locale], {
    timeZone: 'UTC',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(date);
  return words.validUntil(time, day);
}

export interface HtmlEmailContent {
  readonly productName: string;
  readonly heading: string;
  readonly introParagraphs: readonly string[];
  readonly button: { readonly label: string; readonly url: string } | null;
  readonly closingParagraphs: readonly string[];
  readonly recipient: string;
  readonly locale?: Locale;
}

/**
 * Every value arrives as plain text and is escaped here, in one place, so no template can forget to.
 * Inline styles and a table because many mail clients ignore <style> blocks.
 */
export function renderHtmlEmail(content: HtmlEmailContent): string {
  const locale = content.locale ?? 'en';
  const paragraph = (value: string): string =>
    `<p style="margin:0 0 16px;font-size:16px;line-height:24px;color:#1f2933;">${escapeHtml(value)}</p>`;
  return [
    '<!doctype html>',
    `<html lang="${locale}">`,
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
    ...(content.button === null ? [] : renderHtmlButton(content.button, frameWords[locale].buttonFallback)),
    ...content.closingParagraphs.map(paragraph),
    `<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#7b8794;">${escapeHtml(frameWords[locale].sentTo(content.recipient, content.productName))}</p>`,
    '</td></tr></table>',
    '</td></tr></table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function renderHtmlButton(
  button: { readonly label: string; readonly url: string },
  fallbackText: string,
): string[] {
  const url = escapeHtml(assertEmailLink(button.url));
  return [
    '<p style="margin:24px 0;">',
    `<a href="${url}" style="display:inline-block;padding:12px 24px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;font-size:16px;font-weight:bold;">${escapeHtml(button.label)}</a>`,
    '</p>',
    `<p style="margin:0 0 16px;font-size:14px;line-height:20px;color:#52606d;">${escapeHtml(fallbackText)}</p>`,
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
