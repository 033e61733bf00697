import type { FastifyReply, FastifyRequest } from 'fastify';
import { FlowError, errorCodes } from '../flows/errors.ts';
import type { Site } from './pages/layout.ts';
import { renderErrorPage } from './pages/reset-password.ts';
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
    return reply
      .status(errorCodes[error.code].status)
      .type('text/html; charset=utf-8')
      .send(refusalPage?.(site, error) ?? renderErrorPage(site, describeFormRefusal(error)));
  }
  return reply.status(statusOnSuccess).type('text/html; charset=utf-8').send(successPage(site));
}

/**
 * The refusal in the page's language; the flow's own (English) words only where the page's would need a number
 * this reply does not know (a password rule's minimum: the forms with password rules render their own refusal).
 */
function describeFormRefusal(error: FlowError): string {
  const text = describeRefusal(error, () => '', { minimumPasswordLength: Number.NaN }).text;
  return /\{\w+\}|NaN/.test(text) ? error.message : text;
}
