/** Stable error codes: clients may switch on them; the HTTP layer maps each to one status. */
export type ErrorCode =
  | 'invalid_request'
  | 'password_too_short'
  | 'password_too_long'
  | 'password_too_common'
  | 'password_contains_email'
  | 'invalid_credentials'
  | 'email_not_verified'
  | 'account_disabled'
  | 'invalid_token'
  | 'not_authenticated'
  | 'rate_limited'
  | 'service_unavailable';

/** The one error class flows throw; anything else reaching the HTTP layer is a 5xx. */
export class FlowError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'FlowError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** A backing service (database, Redis) is unreachable: the request may be retried later. */
export class DependencyUnavailableError extends Error {
  constructor(dependency: string, cause?: unknown) {
    super(`${dependency} is unavailable`, { cause });
    this.name = 'DependencyUnavailableError';
  }
}
