import assert from 'node:assert/strict';
import { test } from 'node:test';
import { supportedLocales } from '../../src/security/locale.ts';
import { renderSignUpPage } from '../../src/http/pages/sign-up.ts';
import { catalogues, english, runInPageLocale } from '../../src/http/pages/messages.ts';

const placeholdersOf = (text: string): string[] =>
  [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();

test('every page language has exactly the keys of the English catalogue, none empty', () => {
  const keys = Object.keys(english).sort();
  for (const locale of supportedLocales) {
    const catalogue = catalogues[locale] as Readonly<Record<string, string>>;
    assert.deepEqual(Object.keys(catalogue).sort(), keys, `${locale}: missing or extra keys`);
    for (const key of keys) assert.notEqual(catalogue[key]?.trim(), '', `${locale}: ${key} is empty`);
  }
});

test('a translation fills the same placeholders as the English text', () => {
  for (const locale of supportedLocales) {
    const catalogue = catalogues[locale] as Readonly<Record<string, string>>;
    for (const [key, text] of Object.entries(english)) {
      assert.deepEqual(placeholdersOf(catalogue[key] ?? ''), placeholdersOf(text), `${locale}: ${key}`);
    }
  }
});

test('the German catalogue is German, not a copy of the English one', () => {
  const same = Object.entries(english).filter(
    ([key, text]) => catalogues.de[key as keyof typeof english] === text,
  );
  // Only patterns that hold no words may read the same.
  assert.deepEqual(
    same.map(([key]) => key),
    ['site.title', 'account.timeUtc'],
  );
});

test('a page rendered in German says so in <html lang> and speaks German', () => {
  const site = { productName: 'Latchkey', brandColor: '#2f5bd3', defaultLocale: 'en' } as const;
  let html = '';
  runInPageLocale('de', () => {
    html = renderSignUpPage(site, { returnTo: null, minimumPasswordLength: 12 });
  });
  assert.match(html, /<html lang="de">/);
  assert.match(html, /Konto anlegen/);
  assert.match(html, /E-Mail-Adresse/);
  assert.doesNotMatch(html, /Create an account/);
  const english = renderSignUpPage(site, { returnTo: null, minimumPasswordLength: 12 });
  assert.match(english, /<html lang="en">/);
  assert.match(english, /Create an account/);
});
