import { escapeHtml } from '../../security/html-escape.ts';
import { renderPage, type Site } from './layout.ts';

/**
 * The page of an emailed link: words and one button that posts the token (GET changes nothing: mail scanners
 * open links). The checked return address rides along to the answer of the post.
 */
export function renderTokenButtonPage(
  site: Site,
  page: {
    readonly title: string;
    readonly intro: string;
    readonly action: string;
    readonly token: string;
    readonly submit: string;
    readonly returnTo?: string | null;
  },
): string {
  const returnTo =
    page.returnTo === undefined || page.returnTo === null
      ? ''
      : `\n<input type="hidden" name="return_to" value="${escapeHtml(page.returnTo)}">`;
  return renderPage(site, {
    title: page.title,
    body: `<p>${escapeHtml(page.intro)}</p>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="token" value="${escapeHtml(page.token)}">${returnTo}
<button type="submit">${escapeHtml(page.submit)}</button>
</form>`,
  });
}
