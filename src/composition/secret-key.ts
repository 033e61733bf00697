// The development secret: outside production SECRET_KEY may be unset, and the process that needs a key (the API
// or the worker) keeps a random one in DATA_DIR/secret-key, so a restart can still open the mail it queued.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config.ts';

const developmentSecretBytes = 32;

/** SECRET_KEY when set; else the development secret of `dataDir`, created on first use. */
export function resolveSecretKey(config: Pick<Config, 'secretKey' | 'dataDir'>): string {
  return config.secretKey ?? readOrCreateDevelopmentSecret(config.dataDir);
}

/**
 * Creation is atomic: the secret is written to a file of this process and linked into place, which fails if
 * another process (a node:cluster sibling, a worker) got there first; every process then reads the same one.
 */
export function readOrCreateDevelopmentSecret(dataDir: string): string {
  const path = resolve(dataDir, 'secret-key');
  try {
    return readSecret(path);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, randomBytes(developmentSecretBytes).toString('hex'), { mode: 0o600 });
  try {
    linkSync(draft, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  return readSecret(path);
}

function readSecret(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}
