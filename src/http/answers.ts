// The answers of the routes as /openapi.json describes them: every status a route really gives, with its
// content types and headers. Routes spread the shared sets (`...answers.post`) and add their own.
import { allErrorCodes } from '../flows/errors.ts';
import { requestTimeoutMilliseconds } from './client-errors.ts';
import { sessionCookieName } from './session-cookie.ts';

/**
 * The body of every error answer, one shared component of /openapi.json (`#/components/schemas/ErrorBody`):
 * `code` is one of the registry's codes (src/flows/errors.ts).
 */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  description: 'Every error answer: `detail` is for people, `code` is stable and meant for programs.',
  required: ['detail', 'code'],
  additionalProperties: false,
  properties: {
    detail: { type: 'string', description: 'What went wrong, in words; never internals.' },
    code: { type: 'string', enum: allErrorCodes, description: 'Stable error code (see docs/api.md).' },
  },
} as const;

const errorBodyReference = { $ref: 'ErrorBody#' } as const;
const htmlPage = { type: 'string', description: 'An HTML page (works without JavaScript)' } as const;
export const retryAfterHeader = {
  'retry-after': { type: 'integer', minimum: 0, description: 'Seconds to wait before trying again' },
} as const;

/** One documented answer: a JSON body (and an HTML page where given), with headers where given. */
interface Answer {
  readonly description: string;
  readonly headers?: Record<string, object>;
  readonly content: Record<string, { readonly schema: object }>;
}

/** An error answer: an ErrorBody, or (form posts and pages) the same refusal as an HTML page. */
export function error(
  description: string,
  options: { readonly html?: boolean; readonly retryAfter?: boolean } = {},
): Answer {
  return {
    description,
    ...(options.retryAfter === true && { headers: retryAfterHeader }),
    content: {
      'application/json': { schema: errorBodyReference },
      ...(options.html === true && { 'text/html': { schema: htmlPage } }),
    },
  };
}

/** A page: HTML only. */
export function page(description: string): Answer {
  return { description, content: { 'text/html': { schema: htmlPage } } };
}

/** A success of a route that JSON clients and the HTML pages' forms both post to. */
export function jsonOrPage(description: string, schema: object): Answer {
  return { description, content: { 'application/json': { schema }, 'text/html': { schema: htmlPage } } };
}

/** A success without a body (`type: 'null'` is how the OpenAPI plugin learns there is no content). */
export function noContent(description: string): { readonly type: 'null'; readonly description: string } {
  return { type: 'null', description };
}

/** A redirect (303 after a form post, so a reload does not post again): no body, a Location. */
export function seeOther(
  description: string,
  headers: Record<string, object> = {},
): { readonly type: 'null'; readonly description: string; readonly headers: Record<string, object> } {
  return {
    type: 'null',
    description,
    headers: { location: { type: 'string', description: 'Where the browser goes next' }, ...headers },
  };
}

/** Answers every route can give, besides its own. */
export const service = {
  408: error(
    `\`request_timeout\`: the request did not arrive within ${requestTimeoutMilliseconds / 1000} s; the connection is closed`,
  ),
  431: error('`headers_too_large`: request headers too large; the connection is closed'),
  500: error('`internal_error`: an unexpected failure'),
  503: error(
    '`service_unavailable`: PostgreSQL or Redis cannot be reached, or the service is shutting down',
    { retryAfter: true },
  ),
} as const;

/** Answers every POST can give: its body cannot be read, or it rides the session cookie from another site. */
export const post = {
  ...service,
  400: error('`invalid_request`: the body cannot be parsed (malformed JSON, an empty JSON body)'),
  403: error(
    `\`csrf_refused\`: the request carries the \`${sessionCookieName}\` cookie but comes from another site`,
  ),
  413: error('`payload_too_large`: the body is over 16 KiB'),
  415: error('`unsupported_media_type`: the body is neither JSON nor (where accepted) form-encoded'),
} as const;

/** A POST with a body schema: a missing, mistyped or out-of-bounds field. */
export const invalidBody = error(
  '`invalid_request` (a missing, mistyped or out-of-bounds field, an invalid address; `detail` names the field)',
);

/** A page whose query string is out of bounds. */
export const invalidQuery = error(
  '`invalid_request`: the query string is invalid (a token over 512 characters)',
);

/** A route that takes JSON only (a cross-site form must not reach it). */
export const jsonOnly = error(
  '`unsupported_media_type`: the body is not `application/json` (this route takes JSON only)',
);

/** A route with a per-client-IP budget. */
export const rateLimited = error("`rate_limited`: this route's budget for the client is spent", {
  retryAfter: true,
});

/** Public routes: no credentials. */
export const noSecurity: Record<string, string[]>[] = [];
/** A public route a hosted page's form posts to as well as JSON clients: no credentials, either body type. */
export const publicFormPost = {
  security: noSecurity,
  consumes: ['application/json', 'application/x-www-form-urlencoded'],
};
/** The session token as a bearer token or, failing that, as the session cookie. */
export const sessionSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { sessionCookie: [] }];

/**
 * The answers of a POST that consumes an emailed link's token (JSON from an app, or the form of the link's
 * page): a token that does not work, an unreadable or invalid body, the route's per-IP budget.
 */
export const linkTokenPost = {
  ...post,
  400: error(
    '`invalid_token` (JSON, or a page for a form post), or `invalid_request`: the body cannot be parsed',
    { html: true },
  ),
  422: invalidBody,
  429: rateLimited,
} as const;
