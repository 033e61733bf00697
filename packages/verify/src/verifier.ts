import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWSHeaderParameters,
  type JWTPayload,
} from 'jose';
import { VerificationError } from './errors.ts';

/** The claims of a Latchkey access token, checked for presence and type. */
export interface LatchkeyClaims {
  /** Latchkey's base URL. */
  readonly iss: string;
  /** The user's id. */
  readonly sub: string;
  readonly aud: string | readonly string[];
  /** Seconds since the epoch. */
  readonly iat: number;
  /** Seconds since the epoch; the token's revocation bound. */
  readonly exp: number;
  readonly jti: string;
  /** The public id of the session the token was minted from. */
  readonly sid: string;
  readonly email: string;
  readonly email_verified: boolean;
  readonly nbf?: number;
}

export interface VerifierOptions {
  /** Latchkey's APP_BASE_URL, exactly as it appears in `iss`. */
  readonly issuer: string;
  /** The `aud` this service accepts; default the issuer (Latchkey's default JWT_AUDIENCE). */
  readonly audience?: string | readonly string[];
  /** Default `<issuer>/.well-known/jwks.json`. */
  readonly jwksUrl?: string | URL;
  /** Allowed clock difference with Latchkey for `exp`, `nbf` and `iat`. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** The longest `exp - iat` accepted (Latchkey mints at most 900). Default 900. */
  readonly maxTokenLifetimeSeconds?: number;
  /**
   * Least time between two fetches of the key set: an unknown `kid` refetches at most this often, and a failed
   * fetch is not retried sooner (cached keys keep working meanwhile). Default 30.
   */
  readonly jwksCooldownSeconds?: number;
  /**
   * How long a fetched key set is used before it is fetched again: the longest a key removed from the set
   * (say, after a compromise) is still accepted. Default 300.
   */
  readonly jwksCacheMaxAgeSeconds?: number;
  /** How long one fetch of the key set may take. Default 5. */
  readonly jwksTimeoutSeconds?: number;
  /**
   * How many verified tokens to remember, so that a client sending the same token again costs no signature
   * check (an Ed25519 verification is 150–200 µs of CPU). A remembered token is still refused once expired,
   * and is verified afresh after `jwksCacheMaxAgeSeconds`. Default 10,000; 0 remembers none.
   */
  readonly verifiedTokenCacheSize?: number;
}

export interface Verifier {
  /** The token's claims, or a rejection with a VerificationError. */
  verify(token: string): Promise<LatchkeyClaims>;
}

const defaultClockToleranceSeconds = 30;
const defaultMaxTokenLifetimeSeconds = 900;
const defaultJwksCooldownSeconds = 30;
const defaultJwksCacheMaxAgeSeconds = 300;
const defaultJwksTimeoutSeconds = 5;
const defaultVerifiedTokenCacheSize = 10_000;
/** Ed25519 only: never an algorithm whose key could be confused with another kind (HS256 with the public key). */
const acceptedAlgorithms = ['EdDSA'];
const accessTokenType = 'at+jwt';
/** Three base64url parts: anything else (an opaque session or refresh token, say) is refused before any work. */
const compactJwsPattern = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const longestTokenCharacters = 8_192;

/**
 * A verifier of Latchkey access tokens. Keys come from the JWKS, cached; an unknown `kid` refetches it once
 * per cooldown (a key published by a rotation is found; a flood of made-up kids costs one fetch); while the
 * JWKS cannot be fetched, the keys fetched last keep verifying.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const issuer = options.issuer;
  const audience = options.audience ?? issuer;
  const clockToleranceSeconds = options.clockToleranceSeconds ?? defaultClockToleranceSeconds;
  const maxTokenLifetimeSeconds = options.maxTokenLifetimeSeconds ?? defaultMaxTokenLifetimeSeconds;
  const jwksCooldownMilliseconds = (options.jwksCooldownSeconds ?? defaultJwksCooldownSeconds) * 1000;
  const jwksCacheMaxAgeMilliseconds =
    (options.jwksCacheMaxAgeSeconds ?? defaultJwksCacheMaxAgeSeconds) * 1000;
  const verifiedTokens = createVerifiedTokenCache(
    options.verifiedTokenCacheSize ?? defaultVerifiedTokenCacheSize,
    jwksCacheMaxAgeMilliseconds,
    clockToleranceSeconds,
  );
  const jwksUrl = new URL(options.jwksUrl ?? `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`);
  const remoteKeys = createRemoteJWKSet(jwksUrl, {
    cooldownDuration: jwksCooldownMilliseconds,
    cacheMaxAge: jwksCacheMaxAgeMilliseconds,
    timeoutDuration: Math.round((options.jwksTimeoutSeconds ?? defaultJwksTimeoutSeconds) * 1000),
  });

  let lastFailedFetchAt = Number.NEGATIVE_INFINITY;
  // jose hands out a copy of its key set on every call: compared by content, so keys are imported once.
  let cachedKeySetText: string | undefined;
  let cachedKeys: ReturnType<typeof createLocalJWKSet> | undefined;

  /** The keys of the last successful fetch, when the JWKS cannot be fetched now. */
  async function resolveCachedKey(header: JWSHeaderParameters, cause: unknown) {
    const keySet = remoteKeys.jwks();
    if (keySet === undefined) {
      throw new VerificationError('jwks_unavailable', 'the key set could not be fetched', { cause });
    }
    const keySetText = JSON.stringify(keySet);
    if (cachedKeys === undefined || keySetText !== cachedKeySetText) {
      cachedKeySetText = keySetText;
      cachedKeys = createLocalJWKSet(keySet);
    }
    try {
      return await cachedKeys(header);
    } catch (error) {
      throw new VerificationError(
        'jwks_unavailable',
        'the key set could not be fetched and no cached key matches the token',
        { cause: error },
      );
    }
  }

  async function resolveKey(header: JWSHeaderParameters) {
    if (typeof header.kid !== 'string' || header.kid === '') {
      throw new VerificationError('token_invalid', 'the token names no key (kid)');
    }
    if (performance.now() - lastFailedFetchAt < jwksCooldownMilliseconds) {
      return resolveCachedKey(header, undefined);
    }
    try {
      return await remoteKeys(header);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw new VerificationError('token_invalid', 'no key of the key set matches the token', {
          cause: error,
        });
      }
      // Anything else comes from fetching: refused connection, timeout, non-200, not a key set.
      lastFailedFetchAt = performance.now();
      return resolveCachedKey(header, error);
    }
  }

  return {
    async verify(token: string): Promise<LatchkeyClaims> {
      if (
        typeof token !== 'string' ||
        token.length > longestTokenCharacters ||
        !compactJwsPattern.test(token)
      ) {
        throw new VerificationError('token_invalid', 'not a JWT');
      }
      const remembered = verifiedTokens.find(token);
      if (remembered !== undefined) return remembered;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, resolveKey, {
          algorithms: acceptedAlgorithms,
          typ: accessTokenType,
          issuer,
          audience: typeof audience === 'string' ? audience : [...audience],
          clockTolerance: clockToleranceSeconds,
          maxTokenAge: maxTokenLifetimeSeconds,
          requiredClaims: ['exp', 'jti', 'sid', 'email', 'email_verified'],
        }));
      } catch (error) {
        throw classifyFailure(error);
      }
      const claims = readClaims(payload, maxTokenLifetimeSeconds);
      verifiedTokens.remember(token, claims);
      return claims;
    },
  };
}

/**
 * Tokens verified lately, by their exact text (signature included, so only the very token that was checked
 * matches). An entry lasts until the token expires (plus the tolerance) or the key set's max-age passes,
 * whichever comes first: a key removed from the set stops counting as soon as without the cache.
 */
function createVerifiedTokenCache(
  maxEntries: number,
  maxAgeMilliseconds: number,
  clockToleranceSeconds: number,
): {
  find(token: string): LatchkeyClaims | undefined;
  remember(token: string, claims: LatchkeyClaims): void;
} {
  const entries = new Map<string, { readonly claims: LatchkeyClaims; readonly validUntil: number }>();
  return {
    find(token) {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (Date.now() < entry.validUntil) return entry.claims;
      entries.delete(token);
      return undefined;
    },
    remember(token, claims) {
      if (maxEntries <= 0) return;
      // Oldest first: Map keeps insertion order.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      const validUntil = Math.min(
        Date.now() + maxAgeMilliseconds,
        (claims.exp + clockToleranceSeconds) * 1000,
      );
      entries.set(token, { claims, validUntil });
    },
  };
}

function classifyFailure(error: unknown): VerificationError {
  if (error instanceof VerificationError) return error;
  if (error instanceof errors.JWTExpired) {
    return new VerificationError('token_expired', error.message, { cause: error });
  }
  const detail = error instanceof Error ? error.message : 'the token could not be verified';
  return new VerificationError('token_invalid', detail, { cause: error });
}

function readClaims(payload: JWTPayload, maxTokenLifetimeSeconds: number): LatchkeyClaims {
  const { iss, sub, aud, iat, exp, jti, sid, email, email_verified: emailVerified, nbf } = payload;
  if (
    typeof iss !== 'string' ||
    typeof sub !== 'string' ||
    sub === '' ||
    (typeof aud !== 'string' && !Array.isArray(aud)) ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    typeof jti !== 'string' ||
    typeof sid !== 'string' ||
    typeof email !== 'string' ||
    typeof emailVerified !== 'boolean'
  ) {
    throw new VerificationError('token_invalid', 'a claim is missing or of the wrong type');
  }
  if (exp - iat > maxTokenLifetimeSeconds) {
    throw new VerificationError('token_invalid', `the token lives longer than ${maxTokenLifetimeSeconds} s`);
  }
  // Frozen: a remembered token's claims are handed to every request that presents it.
  return Object.freeze({
    iss,
    sub,
    aud: typeof aud === 'string' ? aud : Object.freeze([...aud]),
    iat,
    exp,
    jti,
    sid,
    email,
    email_verified: emailVerified,
    ...(typeof nbf === 'number' && { nbf }),
  });
}
