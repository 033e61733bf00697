import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DependencyUnavailableError, FlowError, type ErrorCode } from '../../flows/errors.ts';

const statusByCode: Record<ErrorCode, number> = {
  invalid_request: 422,
  password_too_short: 422,
  password_too_long: 422,
  password_too_common: 422,
  password_contains_email: 422,
  invalid_credentials: 401,
  email_not_verified: 403,
  account_disabled: 403,
  invalid_token: 400,
  not_authenticated: 401,
  rate_limited: 429,
  service_unavailable: 503,
};

const outageRetryAfterSeconds = 5;

/** Connection-level failures of PostgreSQL or Redis: the request may succeed later, so 503, not 500. */
function isDependencyOutage(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof code === 'string') {
    // Node socket errors, and PostgreSQL's admin-shutdown / cannot-connect classes (57P, 08).
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
      return true;
    if (code.startsWith('57P') || code.startsWith('08') || code === '53300') return true;
  }
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof message === 'string') {
    return /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection is closed|Command timed out|Stream isn't writeable/i.test(
      message,
    );
  }
  return false;
}

export interface ErrorBody {
  readonly detail: string;
  readonly code: string;
}

export function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

/**
 * The one place that maps failures to HTTP. FastAPI's shape ({detail}) plus a stable code; a 5xx never
 * shows its internals.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const cause = error instanceof Error && 'cause' in error ? error.cause : undefined;
    if (error instanceof FlowError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return sendError(reply, statusByCode[error.code], { detail: error.message, code: error.code });
    }
    if (isDependencyOutage(error) || isDependencyOutage(cause)) {
      request.log.warn({ err: error }, 'dependency unavailable');
      reply.header('retry-after', String(outageRetryAfterSeconds));
      return sendError(reply, 503, {
        detail: 'Service temporarily unavailable',
        code: 'service_unavailable',
      });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation !== undefined) {
      return sendError(reply, 422, {
        detail: describeValidationError(fastifyError),
        code: 'invalid_request',
      });
    }
    const status = fastifyError.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const code =
        status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
      return sendError(reply, status, { detail: fastifyError.message, code });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 500, { detail: 'Internal Server Error', code: 'internal_error' });
  });
  app.setNotFoundHandler((_request, reply) =>
    sendError(reply, 404, { detail: 'Not Found', code: 'not_found' }),
  );
}

function describeValidationError(error: FastifyError): string {
  const first = error.validation?.[0];
  if (first === undefined) return 'Invalid request';
  const where = first.instancePath === '' ? (error.validationContext ?? 'body') : first.instancePath.slice(1);
  if (first.keyword === 'required') {
    return `${error.validationContext ?? 'body'}: field "${String(first.params.missingProperty)}" is required`;
  }
  return `${where}: ${first.message ?? 'is invalid'}`;
}
