import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseLocale, localeOfTag, negotiateLocale } from '../../src/security/locale.ts';

test('Accept-Language picks the supported language the reader ranks highest', () => {
  const cases: ReadonlyArray<readonly [string | undefined, string | undefined]> = [
    ['de-DE,de;q=0.9', 'de'],
    ['de-DE,de;q=0.9,en;q=0.8', 'de'],
    ['en-US,en;q=0.9,de;q=0.8', 'en'],
    ['fr-FR,fr;q=0.9,de;q=0.7,en;q=0.5', 'de'],
    ['en;q=0.5,de;q=0.6', 'de'],
    ['en;q=0.5, DE-at ;q=0.6', 'de'],
    ['de;q=1.000,en', 'de'],
    ['en,de', 'en'],
    ['de;q=0,en;q=0.1', 'en'],
    ['de-CH;q=0.8,de;q=0', undefined],
    ['*', 'en'],
    ['en;q=0,*;q=0.5', 'de'],
    ['fr,*;q=0.1', 'en'],
    ['fr-FR,fr;q=0.9,es', undefined],
    ['de;q=2,en;q=0.3', 'en'],
    ['de;q=abc,en;q=0.3', 'en'],
    ['x<script>,de;q=0.2', 'de'],
    ['', undefined],
    ['  ', undefined],
    [undefined, undefined],
    [';;;,,,', undefined],
  ];
  for (const [header, expected] of cases) assert.equal(negotiateLocale(header), expected, String(header));
});

test('"*" (any language, what fetch sends by default) means DEFAULT_LOCALE unless that is refused', () => {
  assert.equal(negotiateLocale('*', 'de'), 'de');
  assert.equal(negotiateLocale('*', 'en'), 'en');
  assert.equal(negotiateLocale('de;q=0, *', 'de'), 'en');
  assert.equal(negotiateLocale('fr, *;q=0.5', 'de'), 'de');
  assert.equal(chooseLocale({ acceptLanguage: '*' }, 'de'), 'de');
});

test('an absurdly long header is read only as far as a real one goes', () => {
  assert.equal(negotiateLocale(`${'fr;q=0.1,'.repeat(500)}de`), undefined);
  assert.equal(negotiateLocale(`de,${'fr;q=0.1,'.repeat(500)}`), 'de');
});

test('a language tag names a supported locale by its primary subtag only', () => {
  assert.equal(localeOfTag('de'), 'de');
  assert.equal(localeOfTag('de_AT'), 'de');
  assert.equal(localeOfTag('EN-gb'), 'en');
  assert.equal(localeOfTag('fr'), undefined);
  assert.equal(localeOfTag('deutsch'), undefined);
  assert.equal(localeOfTag(''), undefined);
  assert.equal(localeOfTag(null), undefined);
});

test('an explicit choice beats the header, the header beats the default', () => {
  assert.equal(chooseLocale({ explicit: 'en', acceptLanguage: 'de-DE,de;q=0.9' }, 'de'), 'en');
  assert.equal(chooseLocale({ explicit: 'fr', acceptLanguage: 'de-DE,de;q=0.9' }, 'en'), 'de');
  assert.equal(chooseLocale({ explicit: 42, acceptLanguage: 'fr' }, 'de'), 'de');
  assert.equal(chooseLocale({}, 'en'), 'en');
  assert.equal(chooseLocale({}, 'de'), 'de');
});

test('?lang, then the language this browser picked, then the account, then Accept-Language, then the default', () => {
  const german = 'de-DE,de;q=0.9';
  assert.equal(
    chooseLocale({ explicit: 'en', picked: 'de', account: 'de', acceptLanguage: german }, 'de'),
    'en',
  );
  assert.equal(chooseLocale({ picked: 'en', account: 'de', acceptLanguage: german }, 'de'), 'en');
  assert.equal(chooseLocale({ account: 'en', acceptLanguage: german }, 'de'), 'en');
  assert.equal(
    chooseLocale({ explicit: 'fr', picked: 'fr', account: null, acceptLanguage: german }, 'en'),
    'de',
  );
  // A picked value is read exactly: a cookie is client input, not a header to negotiate.
  assert.equal(chooseLocale({ picked: 'de-AT', acceptLanguage: 'en' }, 'en'), 'en');
  assert.equal(chooseLocale({ picked: '<b>' }, 'en'), 'en');
});
