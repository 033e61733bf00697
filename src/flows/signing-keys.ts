import type { KeyObject } from 'node:crypto';
import { secondsFrom } from './context.ts';
import { DependencyUnavailableError } from './errors.ts';
import type { Session } from './model.ts';
import type { Clock, SigningKeyStore, StoredSigningKey } from './ports.ts';
import { publicSessionId } from './sessions.ts';
import { generateSigningKey, importSigningKey, signJwt, type PublicSigningJwk } from '../security/jwt.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { generateToken } from '../security/tokens.ts';

/**
 * Covers what the other terms cannot: the database round trip of a reload, timer drift, and clocks of
 * instances that disagree by a few seconds.
 */
export const clockSkewAllowanceSeconds = 5;

/** The settings the rotation timeline is computed from (JWT_JWKS_MAX_AGE_SECONDS and the others). */
export interface SigningKeyTimeline {
  /** How long a verifier may cache the JWKS (its Cache-Control max-age). */
  readonly jwksMaxAgeSeconds: number;
  /** How often every instance reloads the key set from the database. */
  readonly reloadIntervalSeconds: number;
  /** JWT_EXPIRE_SECONDS: the lifetime of an access token. */
  readonly accessTokenLifetimeSeconds: number;
}

/**
 * How long a new key is in the JWKS before any instance signs with it: every instance has loaded it (reload
 * interval) and every verifier's cached JWKS has expired at least once since (max-age).
 */
export function publicationLeadSeconds(timeline: SigningKeyTimeline): number {
  return timeline.jwksMaxAgeSeconds + timeline.reloadIntervalSeconds + clockSkewAllowanceSeconds;
}

/** How long a retired key stays in the JWKS after its last signature: its last token expires, then a cache. */
export function retentionSeconds(timeline: SigningKeyTimeline): number {
  return timeline.accessTokenLifetimeSeconds + timeline.jwksMaxAgeSeconds + clockSkewAllowanceSeconds;
}

/** What the key flows need. `box` seals the private keys (created in one place: composition/signing-keys.ts). */
export interface SigningKeyContext {
  readonly store: SigningKeyStore;
  readonly clock: Clock;
  readonly box: SecretBox;
  readonly timeline: SigningKeyTimeline;
}

/**
 * Where a key is on the timeline at `now`: published (in the JWKS, not signing yet), signing, retired (still
 * in the JWKS for the tokens it signed), or unpublished (out of the JWKS; the clean-up deletes it).
 */
export type SigningKeyState = 'published' | 'signing' | 'retired' | 'unpublished';

export function signingKeyStateAt(key: StoredSigningKey, now: Date): SigningKeyState {
  if (key.signingStartsAt > now) return 'published';
  if (key.signingEndsAt === null || key.signingEndsAt > now) return 'signing';
  if (key.publishedUntil === null || key.publishedUntil > now) return 'retired';
  return 'unpublished';
}

/**
 * Adds the successor of the newest of `keys`, signing from `signingStartsAt`; the keys before it stop
 * signing then and leave the JWKS a retention later. False when another instance added that generation first.
 */
async function addSigningKey(
  context: SigningKeyContext,
  keys: readonly StoredSigningKey[],
  signingStartsAt: Date,
): Promise<StoredSigningKey | null> {
  const generated = generateSigningKey();
  const key: StoredSigningKey = {
    kid: generated.publicJwk.kid,
    generation: Math.max(0, ...keys.map((stored) => stored.generation)) + 1,
    publicJwk: JSON.stringify(generated.publicJwk),
    sealedPrivateKey: context.box.seal(generated.privateKeyPem),
    createdAt: context.clock.now(),
    signingStartsAt,
    signingEndsAt: null,
    publishedUntil: null,
  };
  const inserted = await context.store.insertSigningKey(key, {
    signingEndsAt: signingStartsAt,
    publishedUntil: secondsFrom(signingStartsAt, retentionSeconds(context.timeline)),
  });
  return inserted ? key : null;
}

export interface RotationOutcome {
  /** False: a rotation was pending already (or another instance rotated at the same moment). */
  readonly rotated: boolean;
  /** The key that will sign next: the new one, or the one already pending. */
  readonly key: StoredSigningKey | null;
}

/**
 * Publishes a new key now; it signs from publicationLeadSeconds later, on every instance at that moment.
 * While a key is still waiting to sign, a rotation changes nothing: idempotent, from any number of instances.
 */
export async function rotateSigningKey(context: SigningKeyContext): Promise<RotationOutcome> {
  const keys = await context.store.listSigningKeys();
  const now = context.clock.now();
  const pending = keys.find((key) => key.signingStartsAt > now);
  if (pending !== undefined) return { rotated: false, key: pending };
  const added = await addSigningKey(
    context,
    keys,
    secondsFrom(now, publicationLeadSeconds(context.timeline)),
  );
  if (added !== null) return { rotated: true, key: added };
  const after = await context.store.listSigningKeys();
  return { rotated: false, key: after.at(-1) ?? null };
}

/** The housekeeping pass: rotates when the newest key is `rotationDays` old, and deletes keys out of the JWKS. */
export async function maintainSigningKeys(
  context: SigningKeyContext,
  rotationDays: number,
): Promise<{ readonly rotated: boolean; readonly deleted: number }> {
  const keys = await context.store.listSigningKeys();
  const newest = keys.at(-1);
  const now = context.clock.now();
  let rotated = false;
  // No key yet: the first instance to start creates it (loadSigningKeys), not the clean-up.
  if (newest !== undefined && newest.createdAt <= secondsFrom(now, -rotationDays * 24 * 60 * 60)) {
    rotated = (await rotateSigningKey(context)).rotated;
  }
  const deleted = await context.store.deleteSigningKeysUnpublishedBefore(now);
  return { rotated, deleted };
}

/** A key this process can sign with: its private part opened and parsed once. */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

interface LoadedKey {
  readonly stored: StoredSigningKey;
  readonly publicJwk: PublicSigningJwk;
  /** null: its private part cannot be opened with this SECRET_KEY. */
  readonly privateKey: KeyObject | null;
}

export interface SigningKeyRingOptions extends SigningKeyContext {
  /** Once per key and process: a stored key whose private part this SECRET_KEY cannot open. */
  readonly onUnopenableKey?: (kid: string) => void;
  /** A key replaced because none could sign (first start, or SECRET_KEY changed). */
  readonly onKeyCreated?: (kid: string) => void;
  /** A failed reload (the database is down): the keys in memory go on signing; retried at the next interval. */
  readonly onReloadFailed?: (error: unknown) => void;
}

/**
 * The key set as this process holds it: loaded from the store at start-up and every reload interval, so a
 * token is signed from memory (no database round trip, no key parsing) and the JWKS is served from memory.
 */
export interface SigningKeyRing {
  /**
   * Loads the stored keys. When none can sign now (the very first start, or every key sealed under another
   * SECRET_KEY), it adds one that signs at once; several instances doing so together end up with one key.
   */
  reload(): Promise<void>;
  /** The key to sign with now; throws DependencyUnavailableError while none is loaded. */
  currentSigningKey(): ActiveSigningKey;
  /** The public keys in the JWKS now: published, signing, or retired but still verifying. */
  publishedKeys(): PublicSigningJwk[];
  /** Reloads every reload interval until stopped (the first reload is the caller's). */
  startReloading(): void;
  stopReloading(): Promise<void>;
}

export function createSigningKeyRing(options: SigningKeyRingOptions): SigningKeyRing {
  const opened = new Map<string, KeyObject | null>();
  /** Newest generation first. */
  let loaded: LoadedKey[] = [];
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> | undefined;

  function openKey(stored: StoredSigningKey): KeyObject | null {
    const known = opened.get(stored.kid);
    if (known !== undefined) return known;
    const pem = options.box.open(stored.sealedPrivateKey);
    let privateKey: KeyObject | null = null;
    if (pem !== null) {
      try {
        privateKey = importSigningKey(pem);
      } catch {
        privateKey = null;
      }
    }
    if (privateKey === null) options.onUnopenableKey?.(stored.kid);
    opened.set(stored.kid, privateKey);
    return privateKey;
  }

  function load(keys: readonly StoredSigningKey[]): void {
    loaded = keys
      .map((stored) => ({
        stored,
        publicJwk: JSON.parse(stored.publicJwk) as PublicSigningJwk,
        privateKey: openKey(stored),
      }))
      .sort((a, b) => b.stored.generation - a.stored.generation);
  }

  /**
   * The newest key this process can open whose signing has started and whose tokens still verify (it is in
   * the JWKS). Normally the key due to sign; while another instance's newer key cannot be opened here (a
   * SECRET_KEY change rolling out), the last one this process can open, until it leaves the JWKS.
   */
  function usableKey(now: Date): (LoadedKey & { readonly privateKey: KeyObject }) | undefined {
    return loaded.find(
      (key): key is LoadedKey & { readonly privateKey: KeyObject } =>
        key.privateKey !== null &&
        key.stored.signingStartsAt <= now &&
        (key.stored.publishedUntil === null || key.stored.publishedUntil > now),
    );
  }

  async function reloadNow(): Promise<void> {
    const keys = await options.store.listSigningKeys();
    load(keys);
    if (usableKey(options.clock.now()) !== undefined) return;
    // Nothing this process can open can sign (the first start, or SECRET_KEY changed): a key that signs at
    // once beats refusing every token. Verifiers that cached the JWKS fetch it again on the unknown kid; the
    // timeline resumes with the next rotation. Only when nothing here can sign, so instances on two
    // SECRET_KEYs do not replace each other's keys at every reload.
    const added = await addSigningKey(options, keys, options.clock.now());
    if (added !== null) options.onKeyCreated?.(added.kid);
    load(await options.store.listSigningKeys());
  }

  function reload(): Promise<void> {
    reloading ??= reloadNow().finally(() => {
      reloading = undefined;
    });
    return reloading;
  }

  function reloadInBackground(): void {
    reload().catch((error: unknown) => options.onReloadFailed?.(error));
  }

  return {
    reload,
    currentSigningKey() {
      const key = usableKey(options.clock.now());
      if (key === undefined) throw new DependencyUnavailableError('signing keys');
      return { kid: key.stored.kid, privateKey: key.privateKey };
    },
    publishedKeys() {
      const now = options.clock.now();
      return loaded
        .filter((key) => key.stored.publishedUntil === null || key.stored.publishedUntil > now)
        .map((key) => key.publicJwk);
    },
    startReloading() {
      if (timer !== undefined) return;
      timer = setInterval(reloadInBackground, options.timeline.reloadIntervalSeconds * 1000);
      // A pending reload never keeps the process alive.
      timer.unref();
    },
    async stopReloading() {
      clearInterval(timer);
      timer = undefined;
      await reloading?.catch(() => {});
    },
  };
}

/** What goes into every access token besides the account: JWT_AUDIENCE, APP_BASE_URL, JWT_EXPIRE_SECONDS. */
export interface AccessTokenSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly lifetimeSeconds: number;
}

/** The media type of an access token (RFC 9068), in its `typ` header. */
export const accessTokenType = 'at+jwt';

/**
 * A signed JWT for downstream services, for the live session `session`. It carries no secret: `sid` is the
 * session's public id, never its token or hash. Revocation reaches it only at its `exp`.
 */
export function mintAccessToken(
  ring: Pick<SigningKeyRing, 'currentSigningKey'>,
  clock: Clock,
  settings: AccessTokenSettings,
  session: Session,
): { readonly accessToken: string; readonly expiresInSeconds: number } {
  const key = ring.currentSigningKey();
  const issuedAt = Math.floor(clock.now().getTime() / 1000);
  const claims = {
    iss: settings.issuer,
    sub: session.userId,
    aud: settings.audience,
    iat: issuedAt,
    exp: issuedAt + settings.lifetimeSeconds,
    jti: generateToken(),
    sid: publicSessionId(session.tokenHash),
    email: session.email,
    email_verified: session.isVerified,
  };
  return { accessToken: signJwt(claims, key, accessTokenType), expiresInSeconds: settings.lifetimeSeconds };
}
