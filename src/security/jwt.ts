import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** The public half of an Ed25519 signing key as a JWKS lists it: never the private member `d`. */
export interface PublicSigningJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** A fresh Ed25519 key pair: the public JWK (its kid the RFC 7638 thumbprint) and the private key as PKCS #8 PEM. */
export interface GeneratedSigningKey {
  readonly publicJwk: PublicSigningJwk;
  readonly privateKeyPem: string;
}

export function generateSigningKey(): GeneratedSigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (x === undefined) throw new Error('an Ed25519 public key without x');
  return {
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x, kid: thumbprintOf(x), alg: 'EdDSA', use: 'sig' },
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** RFC 7638: the SHA-256 of the required members in lexicographic order, so a kid names exactly one key. */
function thumbprintOf(x: string): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
}

/** The private key, parsed once: signing with a KeyObject skips the PEM parse on every token. */
export function importSigningKey(privateKeyPem: string): KeyObject {
  return createPrivateKey(privateKeyPem);
}

/** A compact JWS (EdDSA over Ed25519) of `claims` with the header `{alg: EdDSA, typ, kid}`. */
export function signJwt(
  claims: Readonly<Record<string, unknown>>,
  key: { readonly kid: string; readonly privateKey: KeyObject },
  type: string,
): string {
  const header = encodeSegment({ alg: 'EdDSA', typ: type, kid: key.kid });
  const signingInput = `${header}.${encodeSegment(claims)}`;
  const signature = sign(null, Buffer.from(signingInput), key.privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
