/** Longest return address kept; a longer one is refused rather than cut. */
export const returnToMaximumLength = 2048;

/**
 * The address to send a person back to after a page, or null when it must not be followed. Only an absolute
 * http(s) URL whose exact origin is listed (RETURN_TO_ORIGINS) passes: a scheme-relative `//evil`, a look-alike
 * host (`app.example.com.evil`), `javascript:`, userinfo (`https://app.example.com@evil`), and any backslash,
 * control character or whitespace (browsers read `/\evil` as `//evil`) are refused, so it is never an open
 * redirect.
 */
export function resolveReturnTo(raw: string | undefined, allowedOrigins: readonly string[]): string | null {
  if (raw === undefined || raw === '' || raw.length > returnToMaximumLength) return null;
  // Browsers strip tabs and newlines and treat a backslash as a slash; refuse rather than normalise.
  if (/[\\\s\p{Cc}]/u.test(raw)) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username !== '' || url.password !== '') return null;
  // The raw text must begin with the origin itself, so no parser leniency can move the host.
  if (!raw.toLowerCase().startsWith(`${url.origin}`.toLowerCase())) return null;
  if (!allowedOrigins.includes(url.origin)) return null;
  return url.href;
}
