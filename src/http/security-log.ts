import { createHmac, hkdfSync } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FlowError } from '../flows/errors.ts';
import { parseEmailAddress } from '../security/email-address.ts';

/** What happened, by whom: one log line per security decision, in one shape, so alerts can grep one key. */
export type SecurityEvent =
  | 'login'
  | 'password_reset'
  | 'password_change'
  | 'throttled'
  | 'csrf_refused'
  | 'token_refresh'
  | 'refresh_token_reuse'
  | 'admin_refused'
  | 'logout';

export interface SecurityEventFields {
  /** `success`, or the error code the client was answered with (`invalid_credentials`, `rate_limited`, …). */
  readonly outcome: string;
  /** The account's id, once the service knows it (a success). */
  readonly userId?: string;
  /** The submitted address's key (NFKC + lower case): logged only as its pseudonym, never as typed. */
  readonly emailKey?: string;
  /** Which budget refused a throttled request (`ip`, `account`, `token`). */
  readonly layer?: string;
  readonly origin?: string;
}

/** Salt and purpose of the HKDF of SECRET_KEY (as for the outbox's secret box): this key serves nothing else. */
const pseudonymKeySalt = 'latchkey';
const pseudonymKeyPurpose = 'log-pseudonym';

/** The key of account pseudonyms in security log lines, derived from SECRET_KEY. */
export function deriveAccountPseudonymKey(secretKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, pseudonymKeySalt, pseudonymKeyPurpose, 32));
}

/**
 * The first 16 hex characters of HMAC-SHA-256 of the address key under the pseudonym key: failures against one
 * account line up across IPs and instances without the log holding the address, and without SECRET_KEY a log
 * reader cannot confirm a guessed address (a plain hash could be computed by anyone). An operator with
 * SECRET_KEY computes an address's pseudonym as docs/security.md shows, and searches the logs for it.
 */
export function pseudonymizeEmailKey(pseudonymKey: Uint8Array, emailKey: string): string {
  return createHmac('sha256', pseudonymKey).update(emailKey, 'utf8').digest('hex').slice(0, 16);
}

/** Makes `request.server.pseudonymizeAccount` the pseudonym function of this deployment's key. */
export function registerAccountPseudonyms(app: FastifyInstance, pseudonymKey: Uint8Array): void {
  app.decorate('pseudonymizeAccount', (emailKey: string) => pseudonymizeEmailKey(pseudonymKey, emailKey));
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The account pseudonym of an address key (see pseudonymizeEmailKey). */
    pseudonymizeAccount(emailKey: string): string;
  }
}

/**
 * Logs with pino's `time`, the client IP (the proxy's client when TRUST_PROXY is set), the route without its
 * query string (GET links carry tokens there), and never a password, token or raw address.
 */
export function logSecurityEvent(
  request: FastifyRequest,
  event: SecurityEvent,
  fields: SecurityEventFields,
): void {
  const line = {
    event,
    outcome: fields.outcome,
    ip: request.ip,
    method: request.method,
    route: request.routeOptions.url ?? request.url.split('?')[0],
    ...(fields.userId !== undefined && { userId: fields.userId }),
    ...(fields.emailKey !== undefined && { account: request.server.pseudonymizeAccount(fields.emailKey) }),
    ...(fields.layer !== undefined && { layer: fields.layer }),
    ...(fields.origin !== undefined && { origin: fields.origin.slice(0, 200) }),
  };
  const refusedOutright =
    event === 'throttled' ||
    event === 'csrf_refused' ||
    event === 'refresh_token_reuse' ||
    fields.outcome === 'rate_limited';
  if (refusedOutright) request.log.warn(line, `security: ${event} ${fields.outcome}`);
  else request.log.info(line, `security: ${event} ${fields.outcome}`);
}

/** The key of the address in a parsed body, if it holds a valid one (throttled logins and resets name it). */
export function submittedEmailKey(request: FastifyRequest): string | undefined {
  const body = request.body as { email?: unknown } | null | undefined;
  return typeof body?.email === 'string' ? parseEmailAddress(body.email)?.key : undefined;
}

/** Runs a flow and logs its outcome: `success`, or the code of the FlowError it refused with. */
export async function withSecurityLog<T>(
  request: FastifyRequest,
  event: SecurityEvent,
  fields: Omit<SecurityEventFields, 'outcome'>,
  work: () => Promise<T>,
  identify: (result: T) => Pick<SecurityEventFields, 'userId'> = () => ({}),
): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    if (error instanceof FlowError) logSecurityEvent(request, event, { ...fields, outcome: error.code });
    throw error;
  }
  logSecurityEvent(request, event, { ...fields, ...identify(result), outcome: 'success' });
  return result;
}
