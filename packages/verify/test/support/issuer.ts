// A stand-in for Latchkey's side of the contract: a real HTTP server publishing a JWKS, and tokens minted with
// jose exactly as Latchkey mints them (or broken on purpose).
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export type Availability = 'up' | 'failing' | 'stopped';

export interface MintOptions {
  readonly key?: SigningKey;
  /** Claims to add or replace; `undefined` removes the claim. */
  readonly claims?: Record<string, unknown>;
  /** Header members to add or replace (alg stays EdDSA: the signature is real). */
  readonly header?: Record<string, unknown>;
}

const tokenLifetimeSeconds = 300;

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function encodePart(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export async function createSigningKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

/** A fake issuer: JWKS at `<url>/.well-known/jwks.json`, counting the requests it gets. */
export class FakeIssuer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  readonly jwksUrl: string;
  /** What the JWKS lists, in order. */
  published: JWK[] = [];
  /** The key `mint` uses by default. */
  current: SigningKey;
  jwksRequests = 0;
  availability: Availability = 'up';
  maxAgeSeconds = 60;

  private constructor(server: Server, port: number, first: SigningKey) {
    this.server = server;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.jwksUrl = `${this.url}/.well-known/jwks.json`;
    this.current = first;
    this.published = [first.publicJwk];
  }

  static async start(): Promise<FakeIssuer> {
    const first = await createSigningKey();
    const started: { issuer?: FakeIssuer } = {};
    const server = createServer((request, response) => {
      const issuer = started.issuer;
      if (issuer === undefined || request.url !== '/.well-known/jwks.json') {
        response.writeHead(404).end();
        return;
      }
      issuer.jwksRequests += 1;
      if (issuer.availability === 'failing') {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('down for maintenance');
        return;
      }
      response
        .writeHead(200, {
          'content-type': 'application/json',
          'cache-control': `public, max-age=${issuer.maxAgeSeconds}`,
        })
        .end(JSON.stringify({ keys: issuer.published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    started.issuer = new FakeIssuer(server, (server.address() as AddressInfo).port, first);
    return started.issuer;
  }

  /** A new key in the JWKS beside the others (a rotation's publication); it does not sign yet. */
  async publishKey(): Promise<SigningKey> {
    const key = await createSigningKey();
    this.published = [...this.published, key.publicJwk];
    return key;
  }

  unpublishKey(key: SigningKey): void {
    this.published = this.published.filter((jwk) => jwk.kid !== key.kid);
  }

  /** Refuse connections (`stopped`), answer 500 (`failing`) or serve the JWKS again (`up`). */
  async setAvailability(availability: Availability): Promise<void> {
    if (availability === 'stopped' && this.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await closed;
    }
    if (availability !== 'stopped' && !this.server.listening) {
      await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    }
    this.availability = availability;
  }

  claimsFor(overrides: Record<string, unknown> = {}): JWTPayload {
    const iat = nowSeconds();
    const claims: Record<string, unknown> = {
      iss: this.url,
      sub: randomUUID(),
      aud: this.url,
      iat,
      exp: iat + tokenLifetimeSeconds,
      jti: randomUUID(),
      sid: randomBytes(16).toString('base64url'),
      email: 'ada@example.com',
      email_verified: true,
      ...overrides,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return claims;
  }

  /** A token as Latchkey mints it, with the changes asked for. */
  async mint(options: MintOptions = {}): Promise<string> {
    const key = options.key ?? this.current;
    const header = { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...options.header };
    for (const [name, value] of Object.entries(header))
      if (value === undefined) delete (header as Record<string, unknown>)[name];
    return new SignJWT(this.claimsFor(options.claims))
      .setProtectedHeader(header as { alg: string })
      .sign(key.privateKey);
  }

  /** An unsigned token (`alg: none`), with an empty signature or some bytes in its place. */
  mintUnsigned(signature = ''): string {
    return `${encodePart({ alg: 'none', typ: 'at+jwt', kid: this.current.kid })}.${encodePart(this.claimsFor())}.${signature}`;
  }

  /** HS256 with the published public key as the HMAC secret: the classic algorithm-confusion forgery. */
  mintWithPublicKeyAsSecret(secret: 'raw' | 'jwk'): string {
    const jwk = this.current.publicJwk;
    const secretBytes =
      secret === 'raw' ? Buffer.from(jwk.x ?? '', 'base64url') : Buffer.from(JSON.stringify(jwk));
    const signingInput = `${encodePart({ alg: 'HS256', typ: 'at+jwt', kid: this.current.kid })}.${encodePart(this.claimsFor())}`;
    return `${signingInput}.${createHmac('sha256', secretBytes).update(signingInput).digest('base64url')}`;
  }

  async close(): Promise<void> {
    await this.setAvailability('stopped');
  }
}
