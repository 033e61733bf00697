/** One error code: the HTTP status it is answered with, the default `detail`, and when it happens. */
export interface ErrorCodeEntry {
  readonly status: number;
  /** Where the same code is answered with another status too (`when` says which is which). */
  readonly otherStatuses?: readonly number[];
  /** The `detail` when the thrower gives none; a thrower may say more (which field, which rule). */
  readonly message: string;
  /** For docs/api.md's error table, which a test checks against this registry. */
  readonly when: string;
}

/**
 * Every code a client can receive, flows' and the HTTP layer's alike. Codes are stable: clients may switch on
 * them. The HTTP layer answers each with its status, in one body shape ({detail, code}), and /openapi.json
 * lists these codes as the enum of that body's `code`.
 */
export const errorCodes = {
  invalid_token: {
    status: 400,
    message: 'Invalid or expired token',
    when: 'a verification, reset, email-change or restore token that is malformed, unknown, expired, used or invalidated',
  },
  invalid_grant: {
    status: 400,
    message: 'Invalid, expired or revoked refresh token',
    when: '`/token`: a refresh token that is malformed, unknown, expired (absolute or idle lifetime), of an ended family, or reused (which ends its family)',
  },
  unsupported_grant_type: {
    status: 400,
    message: 'Unsupported grant type',
    when: '`/token`: `grant_type` is not `refresh_token`',
  },
  malformed_id: {
    status: 400,
    message: 'Malformed id',
    when: '`/admin/users/{id}`: the id is not a UUID',
  },
  invalid_cursor: {
    status: 400,
    message: 'Invalid cursor',
    when: '`/admin/…` listings: the `cursor` is not one a previous page returned',
  },
  invalid_webhook_url: {
    status: 400,
    message: 'The webhook URL must be an absolute http or https URL',
    when: '`/admin/webhooks/endpoints`: the `url` is not an absolute `http:`/`https:` URL without credentials',
  },
  webhook_target_private: {
    status: 400,
    message: 'The webhook URL points at a private or loopback address',
    when: '`/admin/webhooks/endpoints`: the `url` names a loopback, private or link-local address, `localhost` or a single-label host while `WEBHOOK_ALLOW_PRIVATE` is false',
  },
  unknown_webhook_event_type: {
    status: 400,
    message: 'Unknown webhook event type',
    when: '`/admin/webhooks/endpoints`: `event_types` names a type Latchkey does not send',
  },
  invalid_credentials: {
    status: 401,
    message: 'Incorrect email or password',
    when: 'login: unknown address, wrong password, or an account without a password',
  },
  not_authenticated: {
    status: 401,
    message: 'Not authenticated',
    when: '`/me`, `/logout`, `/me/…`, `/jwt`: no token, or no live session behind it',
  },
  admin_key_required: {
    status: 401,
    message: 'An admin key is required',
    when: '`/admin/…`: no `Authorization: Bearer` header',
  },
  admin_key_refused: {
    status: 403,
    message: 'Admin key refused',
    when: '`/admin/…`: the bearer token is not a live admin key (a wrong, revoked or session token alike)',
  },
  email_not_verified: {
    status: 403,
    message: 'Please verify your email address',
    when: 'login: right password, address not yet verified (a fresh verification link has been emailed)',
  },
  account_disabled: {
    status: 403,
    message: 'Account is deactivated',
    when: 'login: right password, account deactivated',
  },
  invalid_current_password: {
    status: 403,
    message: 'Current password is incorrect',
    when: "`/me/password`, `/me/email`, `/me/delete`: the current password is wrong (it spends the account's login budget)",
  },
  csrf_refused: {
    status: 403,
    message: 'Cross-site request refused',
    when: 'a non-GET request that carries the session cookie but comes from another site (see the headers below); bearer-token calls are not affected',
  },
  session_not_found: {
    status: 404,
    message: 'No such session',
    when: "`DELETE /me/sessions/{id}`: no live session of this account has that id (an unknown id and another account's id alike)",
  },
  user_not_found: {
    status: 404,
    message: 'No such account',
    when: '`/admin/users/{id}`: no account has that id',
  },
  webhook_endpoint_not_found: {
    status: 404,
    message: 'No such webhook endpoint',
    when: '`/admin/webhooks/endpoints/{id}`: no managed or env endpoint has that id',
  },
  webhook_delivery_not_found: {
    status: 404,
    message: 'No such webhook delivery',
    when: '`/admin/webhooks/deliveries/{id}/retry`: no delivery has that id (finished ones are deleted after a week)',
  },
  not_found: {
    status: 404,
    message: 'Not Found',
    when: 'no route for this method and path (a wrong method on a known path included)',
  },
  request_timeout: {
    status: 408,
    message: 'The request did not arrive in time',
    when: "the request's headers and body did not arrive within 10 s (the connection is closed)",
  },
  email_taken: {
    status: 409,
    message: 'This address belongs to another account now',
    when: '`/confirm-email-change`: the new address was registered after the change was asked for; `/cancel-email-change`: the old address was',
  },
  webhook_endpoint_read_only: {
    status: 409,
    message: 'This endpoint is configured by WEBHOOK_URLS',
    when: '`/admin/webhooks/endpoints/{id}`: changing, disabling, deleting or rotating an env endpoint (change `WEBHOOK_URLS`/`WEBHOOK_SECRET` instead; `enable` works)',
  },
  webhook_delivery_not_abandoned: {
    status: 409,
    message: 'Only an abandoned delivery can be retried',
    when: '`/admin/webhooks/deliveries/{id}/retry`: the delivery is still waiting or was delivered',
  },
  webhook_endpoint_disabled: {
    status: 409,
    message: 'The endpoint of this delivery is disabled or gone',
    when: '`/admin/webhooks/deliveries/{id}/retry`: its endpoint is disabled, deleted or no longer in `WEBHOOK_URLS` (enable it first)',
  },
  already_verified: {
    status: 409,
    message: 'The address is verified already',
    when: '`/admin/users/{id}/resend-verification`: the account has nothing to verify',
  },
  payload_too_large: {
    status: 413,
    message: 'Request body is too large',
    when: 'body over 16 KiB',
  },
  unsupported_media_type: {
    status: 415,
    message: 'Unsupported media type',
    when: 'body neither JSON nor form-encoded, or not JSON on `/register`, `/resend-verification` and `/login`',
  },
  invalid_request: {
    status: 422,
    otherStatuses: [400],
    message: 'Invalid request',
    when: '422: a missing or mistyped field, a field out of bounds, an invalid address; `detail` names the field, e.g. `body: field "password" is required`, `password: must be string`, `email: must NOT have more than 254 characters`. 400: the body cannot be parsed (malformed JSON, an empty JSON body), or the HTTP request is malformed, or `/token` misses `grant_type` or `refresh_token` (OAuth 2 answers 400 there)',
  },
  password_too_short: {
    status: 422,
    message: 'Password is too short',
    when: '`Password must be at least 15 characters` (the configured `PASSWORD_MIN_LENGTH`)',
  },
  password_too_long: {
    status: 422,
    message: 'Password is too long',
    when: '`Password must be at most 128 characters`',
  },
  password_contains_email: {
    status: 422,
    message: 'Password must not contain your email address',
    when: "the new password contains the local part of the account's address",
  },
  password_too_common: {
    status: 422,
    message: 'This password is too common',
    when: 'the new password is in the list of breached passwords, or one short unit repeated, or a straight run like `abcdef…`',
  },
  rate_limited: {
    status: 429,
    message: 'Too many requests, try again later',
    when: "the client address spent this route's budget (or the account's, or the reset link's); `Retry-After` gives the seconds to wait",
  },
  headers_too_large: {
    status: 431,
    message: 'Request headers too large',
    when: 'request headers over 16 KiB (the connection is closed)',
  },
  internal_error: {
    status: 500,
    message: 'Internal Server Error',
    when: 'an unexpected failure; `detail` is always `Internal Server Error`',
  },
  service_unavailable: {
    status: 503,
    message: 'Service temporarily unavailable',
    when: 'PostgreSQL or Redis cannot be reached, or the service is shutting down; with `Retry-After: 5`',
  },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof errorCodes;

/** The codes in registry order (by status: the order of docs/api.md's table and of the OpenAPI enum). */
export const allErrorCodes = Object.keys(errorCodes) as readonly ErrorCode[];

/** The one error class flows throw; anything else reaching the HTTP layer is a 5xx. */
export class FlowError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    code: ErrorCode,
    message: string = errorCodes[code].message,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'FlowError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * A backing service (database, Redis) is unreachable: the request may be retried later. The storage adapters
 * throw it (they alone know which failures of their driver mean "unreachable"); the HTTP layer answers 503.
 */
export class DependencyUnavailableError extends Error {
  constructor(dependency: string, cause?: unknown) {
    super(`${dependency} is unavailable`, { cause });
    this.name = 'DependencyUnavailableError';
  }
}
