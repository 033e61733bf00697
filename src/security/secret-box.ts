import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const ivBytes = 12;
const tagBytes = 16;

/** AES-256-GCM with a key derived from SECRET_KEY for one purpose, so one purpose's key opens nothing else. */
export interface SecretBox {
  /** Seals under the current key (the first of the list). */
  seal(plaintext: string): string;
  /** The plaintext, or null when no key of the list sealed it (another SECRET_KEY) or it was altered. */
  open(sealed: string): string | null;
}

/**
 * `secretKeys`: the current SECRET_KEY first, then the previous ones (SECRET_KEY_PREVIOUS), so that what an
 * earlier key sealed (queued mail, signing keys) still opens after a rotation while everything new is sealed
 * under the current key. A single string is a list of one.
 */
export function createSecretBox(secretKeys: string | readonly string[], purpose: string): SecretBox {
  const list = typeof secretKeys === 'string' ? [secretKeys] : secretKeys;
  const [currentKey] = list;
  if (currentKey === undefined) throw new Error('createSecretBox needs at least one key');
  const keys = list.map((secretKey) => Buffer.from(hkdfSync('sha256', secretKey, 'latchkey', purpose, 32)));
  const sealingKey = keys[0] as Buffer;
  return {
    seal(plaintext) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', sealingKey, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      const raw = Buffer.from(sealed, 'base64');
      for (const key of keys) {
        const opened = openWithKey(raw, key);
        if (opened !== null) return opened;
      }
      return null;
    },
  };
}

/** GCM's tag authenticates the key too: a box sealed under another key fails here, it never opens as garbage. */
function openWithKey(raw: Buffer, key: Buffer): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, ivBytes));
    decipher.setAuthTag(raw.subarray(ivBytes, ivBytes + tagBytes));
    return Buffer.concat([decipher.update(raw.subarray(ivBytes + tagBytes)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return null;
  }
}
