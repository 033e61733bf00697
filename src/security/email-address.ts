export interface EmailAddress {
  /** As typed (trimmed): where mail is sent. */
  readonly address: string;
  /** NFKC + lower case: what makes two spellings of one address the same account. */
  readonly key: string;
}

export const emailMaximumLength = 254;

/**
 * One plain addr-spec with a dotted domain; no display names, no quoting, no control characters: a
 * header-injection attempt or a Unicode trick is refused, not normalized away.
 */
const addressPattern =
  /^[^\s@"(),:;<>[\\\]\p{Cc}\p{Cf}]{1,64}@[^\s@"(),:;<>[\\\]\p{Cc}\p{Cf}]+\.[^\s@"(),:;<>[\\\]\p{Cc}\p{Cf}.]+$/u;

export function parseEmailAddress(input: string): EmailAddress | null {
  const address = input.trim();
  if (address.length === 0 || address.length > emailMaximumLength) return null;
  if (!addressPattern.test(address)) return null;
  const domain = address.slice(address.lastIndexOf('@') + 1);
  if (domain.split('.').some((label) => label.length === 0 || label.length > 63)) return null;
  return { address, key: address.normalize('NFKC').toLowerCase() };
}
