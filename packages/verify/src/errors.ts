/**
 * Why a token was refused. Stable: a service may switch on it.
 * - `token_missing`: no `Authorization: Bearer` credentials (the middleware only).
 * - `token_invalid`: not a Latchkey access token for this service (bad format, signature, `alg`, `typ`,
 *   `iss`, `aud`, claims, unknown key, `nbf`/`iat` in the future).
 * - `token_expired`: `exp` passed longer ago than the clock tolerance.
 * - `jwks_unavailable`: the key set could not be fetched and no cached key matches: nobody can say whether
 *   the token is good, so it is the verifier's problem (503), not the caller's (401).
 */
export type VerificationErrorCode = 'token_missing' | 'token_invalid' | 'token_expired' | 'jwks_unavailable';

/** The one error `verify` rejects with. `detail` is for logs; it never contains the token. */
export class VerificationError extends Error {
  readonly code: VerificationErrorCode;

  constructor(code: VerificationErrorCode, detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'VerificationError';
    this.code = code;
  }

  /** 503 when the verifier cannot tell (`jwks_unavailable`), 401 for every fault of the token. */
  get statusCode(): 401 | 503 {
    return this.code === 'jwks_unavailable' ? 503 : 401;
  }
}
