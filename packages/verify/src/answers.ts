import { VerificationError } from './errors.ts';
import type { LatchkeyClaims, Verifier } from './verifier.ts';

/** A refusal as both adapters send it: the same status, headers and JSON body. */
export interface Refusal {
  readonly statusCode: 401 | 503;
  readonly headers: Readonly<Record<string, string>>;
  /** `{ code, detail }`, the shape of Latchkey's own error answers. */
  readonly body: { readonly code: string; readonly detail: string };
}

/** Seconds a client is asked to wait when the key set cannot be fetched. */
const retryAfterSeconds = 30;

const details: Record<VerificationError['code'], string> = {
  token_missing: 'This route needs an access token: Authorization: Bearer <token>.',
  token_invalid: 'The access token is not valid for this service.',
  token_expired: 'The access token expired: mint a new one.',
  jwks_unavailable: 'Access tokens cannot be checked right now; try again shortly.',
};

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function readBearerToken(authorization: string | readonly string[] | undefined): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match?.[1] ?? null;
}

/**
 * The claims of the request's bearer token, or the refusal to send (RFC 6750: a request without credentials
 * gets a bare `Bearer` challenge, a bad token `error="invalid_token"`, an unverifiable one a 503).
 */
export async function authenticateRequest(
  verifier: Verifier,
  authorization: string | readonly string[] | undefined,
): Promise<{ readonly claims: LatchkeyClaims } | { readonly refusal: Refusal }> {
  const token = readBearerToken(authorization);
  if (token === null)
    return { refusal: describeRefusal(new VerificationError('token_missing', 'no bearer token')) };
  try {
    return { claims: await verifier.verify(token) };
  } catch (error) {
    const failure =
      error instanceof VerificationError
        ? error
        : new VerificationError('token_invalid', 'the token could not be verified', { cause: error });
    return { refusal: describeRefusal(failure) };
  }
}

export function describeRefusal(error: VerificationError): Refusal {
  const body = { code: error.code, detail: details[error.code] };
  const noStore = { 'cache-control': 'no-store' };
  switch (error.code) {
    case 'jwks_unavailable':
      return { statusCode: 503, headers: { ...noStore, 'retry-after': String(retryAfterSeconds) }, body };
    case 'token_missing':
      return { statusCode: 401, headers: { ...noStore, 'www-authenticate': 'Bearer' }, body };
    default:
      return {
        statusCode: 401,
        headers: {
          ...noStore,
          'www-authenticate': `Bearer error="invalid_token", error_description="${body.detail}"`,
        },
        body,
      };
  }
}
