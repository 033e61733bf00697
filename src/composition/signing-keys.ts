import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../flows/ports.ts';
import {
  createSigningKeyRing,
  type AccessTokenSettings,
  type SigningKeyContext,
  type SigningKeyRing,
} from '../flows/signing-keys.ts';
import { createSecretBox, type SecretBox } from '../security/secret-box.ts';
import type { Database } from '../storage/postgres/database.ts';
import { PostgresSigningKeyStore } from '../storage/postgres/signing-key-store.ts';
import { systemClock } from './system-clock.ts';

/**
 * The one place the JWT signing keys' box is made: seals new private keys under SECRET_KEY and opens stored
 * ones with it or any key of SECRET_KEY_PREVIOUS, so a rotation done as docs/operations.md says keeps every key.
 */
export function createSigningKeySecretBox(
  secretKey: string,
  previousSecretKeys: readonly string[],
): SecretBox {
  return createSecretBox([secretKey, ...previousSecretKeys], 'jwt-signing-key');
}

/** The key store, clock, box and timeline the key flows run on, from the configuration. */
export function createSigningKeyContext(options: {
  readonly config: Pick<Config, 'jwt' | 'previousSecretKeys'>;
  readonly database: Database;
  readonly secretKey: string;
  readonly clock?: Clock;
}): SigningKeyContext {
  const { jwt } = options.config;
  return {
    store: new PostgresSigningKeyStore(options.database.db),
    clock: options.clock ?? systemClock,
    box: createSigningKeySecretBox(options.secretKey, options.config.previousSecretKeys),
    timeline: {
      jwksMaxAgeSeconds: jwt.jwksMaxAgeSeconds,
      reloadIntervalSeconds: jwt.keyReloadSeconds,
      accessTokenLifetimeSeconds: jwt.lifetimeSeconds,
    },
  };
}

/**
 * The API process's key ring, loaded (the first key created when there is none) and reloading every
 * JWT_KEY_RELOAD_SECONDS until `stopReloading`.
 */
export async function loadSigningKeyRing(
  context: SigningKeyContext,
  logger: Logger,
): Promise<SigningKeyRing> {
  const log = logger.child({ component: 'signing-keys' });
  const ring = createSigningKeyRing({
    ...context,
    onUnopenableKey: (kid) =>
      log.error(
        { kid },
        'a JWT signing key cannot be opened with this SECRET_KEY: it is not used for signing (docs/operations.md)',
      ),
    onKeyCreated: (kid) => log.warn({ kid }, 'no JWT signing key could sign: a new one signs from now'),
    onReloadFailed: (error) =>
      log.warn({ err: error }, 'JWT signing keys not reloaded; the loaded ones go on'),
  });
  await ring.reload();
  ring.startReloading();
  return ring;
}

/** `iss`, `aud` and the lifetime of the minted JWTs. */
export function accessTokenSettingsOf(config: Pick<Config, 'jwt' | 'http'>): AccessTokenSettings {
  const issuer = config.http.appBaseUrl.origin;
  return {
    issuer,
    audience: config.jwt.audience ?? issuer,
    lifetimeSeconds: config.jwt.lifetimeSeconds,
  };
}
