import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { renderErrorPage } from '../pages/reset-password.ts';
import type { Site } from '../pages/layout.ts';
import { message } from '../pages/messages.ts';
import { logSecurityEvent } from '../security-log.ts';

/**
 * Login CSRF: a page's sign-in or sign-up form is accepted only when the browser says it was posted from this
 * very origin. Fetch Metadata first (`Sec-Fetch-Site: same-origin`; every current browser sends it and no page
 * script can forge it), the Origin header where a browser sends no Fetch Metadata, and neither header at all is
 * refused: these forms are for browsers, programs use the JSON API. See docs/decisions/0013.
 */
export function requireSameOriginForm(appOrigin: string, site: Site): preHandlerAsyncHookHandler {
  return async function checkSameOriginForm(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    if (isSameOriginForm(request, appOrigin)) return;
    logSecurityEvent(request, 'csrf_refused', {
      outcome: 'csrf_refused',
      ...(request.headers.origin !== undefined && { origin: request.headers.origin }),
    });
    return reply
      .status(403)
      .type('text/html; charset=utf-8')
      .send(renderErrorPage(site, message('error.crossSite')));
  };
}

export function isSameOriginForm(request: FastifyRequest, appOrigin: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = request.headers.origin;
  return origin !== undefined && origin === appOrigin;
}
