import { hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import { createHmac } from 'node:crypto';
import { runHashJob } from './hash-scheduler.ts';

/** OWASP's argon2id minimum: m=19 MiB, t=2, p=1. Hashing runs on the libuv pool, never the event loop. */
// @node-rs/argon2 exports Algorithm as a const enum, which type stripping cannot inline: 2 is Argon2id.
const argon2id = 2;
const argon2idOptions = {
  algorithm: argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;
const currentParameters = `$argon2id$v=19$m=${argon2idOptions.memoryCost},t=${argon2idOptions.timeCost},p=${argon2idOptions.parallelism}$`;

/** bcrypt reads at most this many bytes of a password. */
const bcryptPasswordBytes = 72;

/** NFKC so that the same password typed on different keyboards or systems is the same password. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export async function hashPassword(password: string): Promise<string> {
  return runHashJob(() => hash(normalizePassword(password), argon2idOptions));
}

export interface PasswordCheck {
  readonly valid: boolean;
  /** The hash is legacy (bcrypt from the tutorial) or weaker than today's parameters: rehash on success. */
  readonly needsRehash: boolean;
}

/**
 * Verifies against argon2id, or the tutorial's passlib hashes ($2b$/$2a$/$2y$ bcrypt and passlib's
 * bcrypt_sha256), so users migrated from it log in and are upgraded.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<PasswordCheck> {
  const normalized = normalizePassword(password);
  try {
    if (passwordHash.startsWith('$argon2')) {
      const valid = await runHashJob(() => verify(passwordHash, normalized));
      return { valid, needsRehash: valid && !passwordHash.startsWith(currentParameters) };
    }
    if (/^\$2[aby]\$/.test(passwordHash)) {
      // passlib hashed only the first 72 bytes of the UTF-8 password and ignored the rest, so a tutorial
      // user whose password is longer still types the whole of it. The cut is in bytes, not characters:
      // it may split a character, as passlib's did. On success the rehash covers the whole password, and
      // from then on a password that merely shares those 72 bytes no longer matches.
      const bcryptInput = Buffer.from(password, 'utf8').subarray(0, bcryptPasswordBytes);
      const valid = await runHashJob(() => bcrypt.compare(bcryptInput, passwordHash));
      return { valid, needsRehash: valid };
    }
    const bcryptSha256 =
      /^\$bcrypt-sha256\$v=2,t=(2[aby]),r=(\d{2})\$([./A-Za-z0-9]{22})\$([./A-Za-z0-9]{31})$/.exec(
        passwordHash,
      );
    if (bcryptSha256 !== null) {
      const [, variant, rounds, salt, digest] = bcryptSha256;
      const key = createHmac('sha256', salt ?? '')
        .update(password)
        .digest('base64');
      const valid = await runHashJob(() => bcrypt.compare(key, `$${variant}$${rounds}$${salt}${digest}`));
      return { valid, needsRehash: valid };
    }
  } catch {
    // A malformed stored hash is a failed login, not a 500.
  }
  return { valid: false, needsRehash: false };
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same work as a real verification when the account does not exist, so response time does not
 * tell whether an address is registered.
 */
export async function verifyAgainstDummyHash(password: string): Promise<void> {
  dummyHash ??= hashPassword('latchkey-dummy-password-for-timing');
  const stored = await dummyHash;
  await runHashJob(() => verify(stored, normalizePassword(password)));
}
