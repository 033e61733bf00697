import { normalizeForLookup, type CommonPasswordList } from './common-passwords.ts';

/**
 * NIST SP 800-63B-4 for passwords used alone: a minimum length (15 by default), a maximum of at least 64
 * (128 here), every character allowed, no composition rules, no truncation, and a check against values
 * attackers try first. Lengths count Unicode code points after NFKC, the form that is hashed.
 */
export const passwordMaximumLength = 128;
export const defaultPasswordMinimumLength = 15;
/** 800-63B-4 allows 8 only when the password is one factor of several; below that is never accepted. */
export const lowestPasswordMinimumLength = 8;
/** The local part of an address must be at least this long to be looked for inside a password. */
const shortestLocalPartChecked = 4;
/** A unit this short repeated ("aaaa…", "abab…", "1234 1234…") is as guessable as a list entry. */
const longestRepeatedUnit = 4;

export type PasswordRule =
  'password_too_short' | 'password_too_long' | 'password_contains_email' | 'password_too_common';

export interface PasswordPolicy {
  readonly minimumLength: number;
  readonly commonPasswords: CommonPasswordList;
}

export interface PasswordProblem {
  readonly rule: PasswordRule;
  readonly message: string;
}

/**
 * The first rule the password breaks, or null. `emailKey` is the account's address (NFKC + lower case): a
 * password that contains its local part is the first guess of anyone who knows the address.
 */
export function findPasswordProblem(
  policy: PasswordPolicy,
  password: string,
  emailKey: string,
): PasswordProblem | null {
  const tooLong: PasswordProblem = {
    rule: 'password_too_long',
    message: `Password must be at most ${passwordMaximumLength} characters`,
  };
  // NFKC expands a character 18-fold at most: a huge input is refused before it is normalised.
  if (password.length > passwordMaximumLength * 18) return tooLong;
  const normalized = normalizeForLookup(password);
  const length = [...password.normalize('NFKC')].length;
  if (length < policy.minimumLength) {
    return {
      rule: 'password_too_short',
      message: `Password must be at least ${policy.minimumLength} characters`,
    };
  }
  if (length > passwordMaximumLength) return tooLong;
  if (localPartsOf(emailKey).some((part) => normalized.includes(part))) {
    return {
      rule: 'password_contains_email',
      message: 'Password must not contain your email address or its name part',
    };
  }
  if (policy.commonPasswords.has(normalized) || isTriviallyPredictable(normalized)) {
    return {
      rule: 'password_too_common',
      message: 'This password is too common: it appears in lists of breached or predictable passwords',
    };
  }
  return null;
}

/** "john.smith+news@…" gives john.smith+news, john.smith and johnsmith: each one a guess. */
function localPartsOf(emailKey: string): string[] {
  const at = emailKey.lastIndexOf('@');
  if (at <= 0) return [];
  const local = normalizeForLookup(emailKey.slice(0, at));
  const withoutTag = local.split('+')[0] ?? local;
  const candidates = new Set([local, withoutTag, withoutTag.replace(/[._-]/g, '')]);
  return [...candidates].filter((part) => [...part].length >= shortestLocalPartChecked);
}

/** One short unit repeated, or one straight run of consecutive characters ("abcdef…", "98765…"). */
function isTriviallyPredictable(normalized: string): boolean {
  const characters = [...normalized];
  for (let unit = 1; unit <= longestRepeatedUnit; unit += 1) {
    if (characters.every((character, index) => character === characters[index % unit])) return true;
  }
  const codes = characters.map((character) => character.codePointAt(0) ?? 0);
  for (const step of [1, -1]) {
    if (codes.every((code, index) => index === 0 || code - (codes[index - 1] ?? 0) === step)) return true;
  }
  return false;
}
