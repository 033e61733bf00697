import { escapeHtml } from '../../security/html-escape.ts';
import { message, pageAddressIn, pageLanguage } from './messages.ts';
import { localeNames, supportedLocales, type Locale } from '../../security/locale.ts';

/** What every page shows of the deployment: PRODUCT_NAME and BRAND_COLOR. */
export interface Site {
  readonly productName: string;
  /** `#rrggbb`, AA contrast against white (checked by the configuration). */
  readonly brandColor: string;
  /** DEFAULT_LOCALE: the language when neither the account nor the request names a supported one. */
  readonly defaultLocale: Locale;
}

export interface PageContent {
  /** The document title, before " · PRODUCT_NAME". */
  readonly title: string;
  /** The visible heading; the title when absent. */
  readonly heading?: string;
  /** HTML, already escaped. */
  readonly body: string;
  /** A wider card (the account page). */
  readonly wide?: boolean;
}

/**
 * A complete page: one centred card, the stylesheet served by the service itself, no inline script or style
 * (the strict CSP holds), no external asset. Works without JavaScript.
 */
export function renderPage(site: Site, page: PageContent): string {
  const product = escapeHtml(site.productName);
  return `<!doctype html>
<html lang="${pageLanguage()}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(message('site.title', { title: page.title, product: site.productName }))}</title>
<link rel="stylesheet" href="/assets/latchkey.css">
</head>
<body>
<header class="top${page.wide === true ? ' wide' : ''}"><div class="brand"><span class="brand-mark" aria-hidden="true"></span><span class="brand-name">${product}</span></div>
${renderLanguageSwitcher()}</header>
<main class="card${page.wide === true ? ' wide' : ''}">
<h1>${escapeHtml(page.heading ?? page.title)}</h1>
${page.body}
</main>
<footer class="site-footer">${escapeHtml(message('site.footer', { product: 'Latchkey' }))}</footer>
</body>
</html>
`;
}

/**
 * Plain links to this same page in every other language, each named in its own language (a person who cannot
 * read the page still finds theirs); no script: the link's `?lang` is honoured and remembered.
 */
function renderLanguageSwitcher(): string {
  const current = pageLanguage();
  const links = supportedLocales
    .filter((locale) => locale !== current)
    .map(
      (locale) =>
        `<a href="${escapeHtml(pageAddressIn(locale))}" lang="${locale}" hreflang="${locale}">${escapeHtml(localeNames[locale])}</a>`,
    )
    .join(' ');
  return `<nav class="languages" aria-label="${escapeHtml(message('site.languages'))}">${links}</nav>`;
}

/** A page that says one thing, with an optional link onwards (already checked by the caller). */
export function renderMessagePage(
  site: Site,
  title: string,
  text: string,
  onward?: { readonly href: string; readonly label: string },
): string {
  const link =
    onward === undefined
      ? ''
      : `\n<p><a class="button" href="${escapeHtml(onward.href)}">${escapeHtml(onward.label)}</a></p>`;
  return renderPage(site, { title, body: `<p>${escapeHtml(text)}</p>${link}` });
}

/** The one stylesheet of the pages, with the brand colour; served at /assets/latchkey.css. */
export function renderStylesheet(site: Site): string {
  return `:root {
  --brand: ${site.brandColor};
  --text: #1d2330;
  --muted: #4f5666;
  --line: #c4c9d4;
  --error: #b3261e;
  --surface: #ffffff;
  --page: #f3f4f7;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  color: var(--text);
  line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; background: var(--page); display: flex; flex-direction: column;
  align-items: center; padding: 2rem 1rem; }
.top { width: 100%; max-width: 26rem; display: flex; align-items: center; justify-content: space-between;
  gap: 1rem; margin-bottom: 1.25rem; }
.top.wide { max-width: 40rem; }
.brand { display: flex; align-items: center; gap: 0.6rem; font-weight: 700; font-size: 1.15rem; }
.languages { font-size: 0.95rem; }
.languages a { display: inline-block; padding: 0.35rem 0.5rem; }
.brand-mark { width: 1.6rem; height: 1.6rem; border-radius: 0.45rem; background: var(--brand); }
.card { width: 100%; max-width: 26rem; background: var(--surface); border-radius: 12px; padding: 2rem;
  box-shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 8px 24px rgba(16, 24, 40, 0.08); }
.card.wide { max-width: 40rem; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: 0 0 1.25rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 0.75rem; padding-top: 1.5rem; border-top: 1px solid #e3e6ec; }
p { margin: 0 0 1rem; }
a { color: var(--brand); text-underline-offset: 0.15em; }
label { display: block; font-weight: 600; margin: 1rem 0 0.35rem; }
input[type=email], input[type=password], input[type=text] { display: block; width: 100%; padding: 0.65rem 0.75rem;
  font: inherit; color: inherit; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
input[aria-invalid=true] { border-color: var(--error); border-width: 2px; }
:focus-visible { outline: 3px solid var(--brand); outline-offset: 2px; }
input:focus { outline: 3px solid var(--brand); outline-offset: 1px; border-color: var(--brand); }
.hint { color: var(--muted); font-size: 0.9rem; margin: 0.35rem 0 0; }
.field-error { color: var(--error); font-weight: 600; font-size: 0.95rem; margin: 0.35rem 0 0; }
button, .button { display: inline-block; margin-top: 1.5rem; padding: 0.7rem 1.2rem; border: 2px solid var(--brand);
  border-radius: 8px; background: var(--brand); color: #fff; font: inherit; font-weight: 600; cursor: pointer;
  text-decoration: none; }
.card:not(.wide) form button { width: 100%; }
button.secondary { background: #fff; color: var(--brand); }
button.danger { background: var(--error); border-color: var(--error); }
button.small { margin-top: 0; padding: 0.35rem 0.8rem; font-size: 0.9rem; }
.error-summary { border: 2px solid var(--error); border-radius: 8px; padding: 0.75rem 1rem; margin-bottom: 1rem; }
.error-summary h2 { font-size: 1rem; margin: 0 0 0.35rem; padding: 0; border: 0; color: var(--error); }
.error-summary ul { margin: 0; padding-left: 1.2rem; }
.error-summary p { margin: 0 0 0.35rem; font-weight: 600; }
select { display: block; width: 100%; padding: 0.6rem 0.75rem; font: inherit; color: inherit;
  border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.error-summary a { color: var(--error); font-weight: 600; }
.notice { border-left: 4px solid var(--brand); background: #f5f7fb; padding: 0.75rem 1rem; border-radius: 4px; }
.links { margin-top: 1.5rem; font-size: 0.95rem; color: var(--muted); }
.links p { margin: 0.4rem 0; }
.status { display: inline-block; font-size: 0.85rem; font-weight: 600; padding: 0.1rem 0.5rem; border-radius: 999px;
  background: #e7f4ea; color: #1e6b34; }
.status.pending { background: #fdf1e2; color: #7a4100; }
.sessions { list-style: none; margin: 0; padding: 0; }
.sessions li { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: 0.75rem 0;
  border-bottom: 1px solid #e3e6ec; }
.sessions .device { font-weight: 600; overflow-wrap: anywhere; }
.sessions .meta { color: var(--muted); font-size: 0.9rem; }
.sessions form, .sessions .status { margin: 0; flex-shrink: 0; white-space: nowrap; }
.site-footer { margin-top: 1.5rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 480px) {
  body { padding: 1rem 0.75rem; }
  .card { padding: 1.5rem 1.25rem; }
  .sessions li { flex-direction: column; align-items: flex-start; gap: 0.4rem; }
}
`;
}
