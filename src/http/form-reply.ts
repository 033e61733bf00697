import type { FastifyReply, FastifyRequest } from 'fastify';
import { FlowError, errorCodes } from '../flows/errors.ts';
import type { Site } from './pages/layout.ts';
import { renderErrorPage, renderResetPasswordPage } from './pages/reset-password.ts';
import { renderRestoreAccountPage } from './pages/account-deletion.ts';
import { renderCancelEmailChangePage, renderConfirmEmailChangePage } from './pages/email-change.ts';
import { renderVerifyEmailPage } from './pages/verify-email.ts';
import { describeRefusal } from './pages/refusals.ts';

/** A plain HTML form posted this request (the pages work without JavaScript): answer with a page. */
export function isFormPost(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('application/x-www-form-urlencoded');
}

/** For form posts, a flow's refusal becomes a readable page with the same status the JSON API would use. */
export async function answerForm(
  reply: FastifyReply,
  site: Site,
  work: () => Promise<void>,
  successPage: (site: Site) => string,
  statusOnSuccess = 200,
  /** The form again with the refusal next to its field, for the refusals it can show; the generic page otherwise. */
  refusalPage?: (site: Site, error: FlowError) => string | undefined,
): Promise<FastifyReply> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof FlowError)) throw error;
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    const invalidLink =
      error.code === 'invalid_token' ? invalidLinkPages[reply.request.routeOptions.url ?? ''] : undefined;
    return reply
      .status(errorCodes[error.code].status)
      .type('text/html; charset=utf-8')
      .send(
        refusalPage?.(site, error) ??
          invalidLink?.(site) ??
          renderErrorPage(site, describeFormRefusal(error)),
      );
  }
  return reply.status(statusOnSuccess).type('text/html; charset=utf-8').send(successPage(site));
}

/**
 * An emailed link's button pressed when the link no longer works (pressed twice, opened in two tabs, expired while
 * the page was open): the same page the link shows when opened now, with its explanation and its way on, not a
 * generic error.
 */
const invalidLinkPages: Readonly<Record<string, (site: Site) => string>> = {
  '/verify-email': (site) => renderVerifyEmailPage(site, '', false),
  '/reset-password': (site) => renderResetPasswordPage(site, '', false, 0),
  '/confirm-email-change': (site) => renderConfirmEmailChangePage(site, '', false),
  '/cancel-email-change': (site) => renderCancelEmailChangePage(site, '', false),
  '/restore-account': (site) => renderRestoreAccountPage(site, '', false),
};

/**
 * The refusal in the page's language; the flow's own (English) words only where the page's would need a number
 * this reply does not know (a password rule's minimum: the forms with password rules render their own refusal).
 */
function describeFormRefusal(error: FlowError): string {
  const text = describeRefusal(error, () => '', { minimumPasswordLength: Number.NaN }).text;
  return /\{\w+\}|NaN/.test(text) ? error.message : text;
}
