// The languages Latchkey speaks, and how one is picked for a person: pure functions, no I/O.

/** Every language of the pages and emails; the first is the fallback of last resort. */
export const supportedLocales = ['en', 'de'] as const;
export type Locale = (typeof supportedLocales)[number];

/** Each language's name in itself: what a person looks for when the page is in a language they cannot read. */
export const localeNames: Readonly<Record<Locale, string>> = { en: 'English', de: 'Deutsch' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (supportedLocales as readonly string[]).includes(value);
}

/** A supported locale for a tag such as `de`, `DE-at` or `en_GB` (its primary subtag), else undefined. */
export function localeOfTag(tag: string | undefined | null): Locale | undefined {
  if (typeof tag !== 'string') return undefined;
  const primary = tag.trim().toLowerCase().split(/[-_]/, 1)[0];
  return isLocale(primary) ? primary : undefined;
}

interface Preference {
  readonly tag: string;
  readonly quality: number;
  readonly order: number;
}

/** Longer than any real header; anything beyond is not read (a header is client input). */
const maximumHeaderLength = 1024;

/**
 * The supported locale an `Accept-Language` header (RFC 9110 §12.5.4) prefers most, or undefined when it names
 * none: ranges by falling q-value (absent q = 1, ties in header order), `q=0` means "not this", `*` ("any",
 * what some clients send by default) matches `wildcardLocale` (DEFAULT_LOCALE) unless refused, else the first
 * supported locale not refused; a malformed range or q-value is skipped rather than failing the request.
 */
export function negotiateLocale(
  header: string | undefined | null,
  wildcardLocale: Locale = supportedLocales[0],
): Locale | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const preferences: Preference[] = [];
  header
    .slice(0, maximumHeaderLength)
    .split(',')
    .forEach((entry, order) => {
      const [range = '', ...parameters] = entry.split(';').map((part) => part.trim());
      if (!/^(?:\*|[a-z]{1,8}(?:[-_][a-z0-9]{1,8})*)$/i.test(range)) return;
      let quality = 1;
      for (const parameter of parameters) {
        const match = /^q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i.exec(parameter);
        if (match === null) return;
        quality = Number(match[1]);
      }
      preferences.push({ tag: range.toLowerCase(), quality, order });
    });
  const refused = new Set(
    preferences.filter((preference) => preference.quality === 0).map((preference) => preference.tag),
  );
  const ranked = preferences
    .filter((preference) => preference.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.order - b.order);
  for (const preference of ranked) {
    if (preference.tag === '*') {
      const rest = [wildcardLocale, ...supportedLocales].find((locale) => !refused.has(locale));
      if (rest !== undefined) return rest;
      continue;
    }
    const locale = localeOfTag(preference.tag);
    if (locale !== undefined && !refused.has(locale)) return locale;
  }
  return undefined;
}

/** A value that names a supported locale exactly (`de`, `en`), else undefined: a query or cookie is client input. */
export function readLocaleChoice(value: unknown): Locale | undefined {
  return isLocale(value) ? value : undefined;
}

/**
 * The first choice that names a supported locale: an explicit field (`?lang`, a form's field), then the language
 * this browser picked (the switcher's cookie), then the signed-in account's, then the header, then the default.
 */
export function chooseLocale(
  choices: {
    readonly explicit?: unknown;
    readonly picked?: unknown;
    readonly account?: Locale | null | undefined;
    readonly acceptLanguage?: string | undefined;
  },
  defaultLocale: Locale,
): Locale {
  return (
    (typeof choices.explicit === 'string' ? localeOfTag(choices.explicit) : undefined) ??
    readLocaleChoice(choices.picked) ??
    choices.account ??
    negotiateLocale(choices.acceptLanguage, defaultLocale) ??
    defaultLocale
  );
}

/** The `locale` field of a queued email for a recipient with `locale`; none (DEFAULT_LOCALE) when it is null. */
export function localeField(locale: Locale | null | undefined): { readonly locale?: Locale } {
  return locale === null || locale === undefined ? {} : { locale };
}
