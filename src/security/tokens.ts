import { createHmac, hash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const tokenBytes = 32;

/** A 256-bit token from the CSPRNG, URL-safe (43 characters). */
export function generateToken(): string {
  return randomBytes(tokenBytes).toString('base64url');
}

/** What storage keeps instead of a token: its SHA-256, hex. A leaked table yields no usable token. */
export function hashToken(token: string): string {
  // One-shot: no Hash object per call (a session check hashes its token on every request).
  return hash('sha256', token, 'hex');
}

/** Well-formed tokens only: anything else is refused before any lookup. */
export function isWellFormedToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

export function equalInConstantTime(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A token computed, not drawn: HMAC-SHA-256 of `input` under `key`, URL-safe (43 characters, like a drawn
 * one). The same key and input always give the same token, which is how a refresh's successor pair can be
 * handed out again to a racing duplicate without being stored anywhere.
 */
export function deriveToken(key: Uint8Array, input: string): string {
  return createHmac('sha256', key).update(input, 'utf8').digest('base64url');
}

/** The key of deriveToken for refresh rotations: an HKDF of SECRET_KEY that serves nothing else. */
export function deriveRefreshTokenKey(secretKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'latchkey', 'refresh-token', 32));
}
