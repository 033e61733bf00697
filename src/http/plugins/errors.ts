import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DependencyUnavailableError, FlowError, errorCodes, type ErrorCode } from '../../flows/errors.ts';
import { errorBodySchema } from '../answers.ts';

/** What a client waits before retrying after an outage; long enough for a database failover to begin. */
export const outageRetryAfterSeconds = 5;

/** Every error answer of the service: FastAPI's shape ({detail}) plus a stable code from the registry. */
export interface ErrorBody {
  readonly detail: string;
  readonly code: ErrorCode;
}

/** The error code each error answer carried, for hooks that describe the answer after the fact (the admin audit). */
const answeredErrorCodes = new WeakMap<FastifyReply, ErrorCode>();

/** The code of the error this reply answered with; undefined when it answered otherwise. */
export function answeredErrorCodeOf(reply: FastifyReply): ErrorCode | undefined {
  return answeredErrorCodes.get(reply);
}

/**
 * Answers `code` with its registry status and, unless given, its default detail. `status` overrides the
 * registry only where the registry says so (`invalid_request` is 400 when a request cannot be parsed).
 */
export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  options: { readonly detail?: string; readonly status?: number } = {},
): FastifyReply {
  const body: ErrorBody = { detail: options.detail ?? errorCodes[code].message, code };
  answeredErrorCodes.set(reply, code);
  return reply
    .status(options.status ?? errorCodes[code].status)
    .type('application/json; charset=utf-8')
    .send(body);
}

/** The answer while PostgreSQL or Redis cannot be reached, or the service is closing. */
export function sendServiceUnavailable(reply: FastifyReply): FastifyReply {
  reply.header('retry-after', String(outageRetryAfterSeconds));
  return sendError(reply, 'service_unavailable');
}

/** Errors fastify itself raises before a route runs (body parsing and limits), by status. */
const codeByFastifyStatus: Readonly<Record<number, ErrorCode>> = {
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * The one place that maps failures to HTTP. A 5xx never shows its internals. Outages arrive as
 * DependencyUnavailableError from the storage adapters, which alone know their drivers' failures.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  // One shared schema that every route's error answers refer to (`ErrorBody#`), in /openapi.json too.
  app.addSchema(errorBodySchema);
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof FlowError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return sendError(reply, error.code, { detail: error.message });
    }
    if (error instanceof DependencyUnavailableError) {
      request.log.warn({ err: error }, 'dependency unavailable');
      return sendServiceUnavailable(reply);
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation !== undefined) {
      return sendError(reply, 'invalid_request', { detail: describeValidationError(fastifyError) });
    }
    const status = fastifyError.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendError(reply, codeByFastifyStatus[status] ?? 'invalid_request', {
        detail: fastifyError.message,
        status,
      });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 'internal_error');
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 'not_found'));
}

function describeValidationError(error: FastifyError): string {
  const first = error.validation?.[0];
  if (first === undefined) return errorCodes.invalid_request.message;
  const where = first.instancePath === '' ? (error.validationContext ?? 'body') : first.instancePath.slice(1);
  if (first.keyword === 'required') {
    return `${error.validationContext ?? 'body'}: field "${String(first.params.missingProperty)}" is required`;
  }
  return `${where}: ${first.message ?? 'is invalid'}`;
}
