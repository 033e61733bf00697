import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EmailMessage } from '../../src/flows/model.ts';
import { renderEmail } from '../../src/email/templates/index.ts';

const options = { productName: 'Latchkey' };
const expiresAt = '2026-03-09T07:05:42.123Z';

/** Every template, as the flows queue it for an account whose locale is German. */
function buildGermanMessages(to: string, url: string): EmailMessage[] {
  const messages: EmailMessage[] = [
    { template: 'verify_email', to, params: { url, expiresAt } },
    { template: 'already_registered', to, params: { resetUrl: url, expiresAt } },
    { template: 'password_reset', to, params: { url, expiresAt } },
    { template: 'password_changed', to, params: { resetUrl: url } },
    { template: 'email_change_confirm', to, params: { url, expiresAt } },
    { template: 'email_change_notice', to, params: { url, changed: false, expiresAt } },
    { template: 'email_change_notice', to, params: { url, changed: true, expiresAt } },
    { template: 'email_change_attempted', to, params: { resetUrl: url } },
    { template: 'account_deleted', to, params: { url, expiresAt } },
    { template: 'account_deleted', to, params: { url: null } },
  ];
  return messages.map((message) => ({ ...message, locale: 'de' }));
}

/** Words only a German email holds; the English frame words must not leak into it. */
const germanWords = /\b(?:Sie|Ihr|Ihre|Ihren|Konto|Passwort|Link|E-Mail)\b/;
const englishWords = /\b(?:your|the|you|If|link is valid|This email was sent)\b/;

describe('German emails', () => {
  for (const message of buildGermanMessages('ada@example.com', 'https://auth.example.com/l?token=t0k3n')) {
    const name = `${message.template}${'changed' in message.params ? ` (changed: ${message.params.changed})` : ''}${'url' in message.params && message.params.url === null ? ' (no link)' : ''}`;
    test(`${name}: subject, text and HTML in German, with lang="de"`, () => {
      const { subject, text, html } = renderEmail(message, options);
      const english = renderEmail({ ...message, locale: 'en' }, options);
      assert.notEqual(subject, english.subject);
      assert.match(`${subject}\n${text}`, germanWords);
      assert.doesNotMatch(subject, englishWords);
      assert.doesNotMatch(text.replaceAll(/https?:\S+/g, ''), englishWords, text);
      assert.match(html, /<html lang="de">/);
      assert.match(html, /Diese E-Mail wurde von Latchkey an ada@example.com gesendet\./);
      assert.ok(text.includes('ada@example.com'));
      const url = 'url' in message.params ? message.params.url : message.params.resetUrl;
      if (url !== null) {
        assert.ok(text.split('\n').includes(`${url}&lang=de`), 'the link alone on its line, in German');
        assert.match(html, /Falls die Schaltfläche nicht funktioniert/);
      }
    });
  }

  test('the deadline is a German date, in UTC, rounded down to the minute', () => {
    const { text, html } = renderEmail(
      {
        template: 'password_reset',
        to: 'a@example.com',
        locale: 'de',
        params: { url: 'https://x.test/r', expiresAt },
      },
      options,
    );
    assert.match(text, /Der Link ist gültig bis 07:05 UTC am 9\. März 2026 und funktioniert einmal\./);
    assert.match(html, /gültig bis 07:05 UTC am 9\. März 2026/);
  });

  test('a German message queued without a deadline promises none', () => {
    const { text } = renderEmail(
      { template: 'verify_email', to: 'a@example.com', locale: 'de', params: { url: 'https://x.test/v' } },
      options,
    );
    assert.match(text, /Der Link ist nur eine begrenzte Zeit gültig/);
    assert.doesNotMatch(text, /UTC/);
  });

  test('values are escaped in the German HTML too', () => {
    const { html } = renderEmail(
      {
        template: 'verify_email',
        to: '"<img src=x onerror=alert(1)>"@example.com',
        locale: 'de',
        params: { url: 'https://x.test/v?a="b&c=<script>', expiresAt },
      },
      { productName: 'Latch<b>key</b>' },
    );
    assert.ok(!html.includes('<img') && !html.includes('<script') && !html.includes('<b>key'));
    assert.ok(html.includes('Latch&lt;b&gt;key&lt;/b&gt;'));
  });
});

describe('the language of an email', () => {
  const message: EmailMessage = {
    template: 'password_changed',
    to: 'a@example.com',
    params: { resetUrl: 'https://x.test/r' },
  };

  test('a message queued without a locale (older versions, accounts without one) renders in DEFAULT_LOCALE', () => {
    assert.match(
      renderEmail(message, { ...options, defaultLocale: 'de' }).subject,
      /Ihr Latchkey-Passwort wurde geändert/,
    );
    assert.match(
      renderEmail(message, { ...options, defaultLocale: 'en' }).subject,
      /Your Latchkey password was changed/,
    );
    assert.match(renderEmail(message, options).subject, /Your Latchkey password was changed/);
  });

  test("the message's own locale wins over DEFAULT_LOCALE", () => {
    assert.match(
      renderEmail({ ...message, locale: 'en' }, { ...options, defaultLocale: 'de' }).subject,
      /^Your/,
    );
    assert.match(
      renderEmail({ ...message, locale: 'de' }, { ...options, defaultLocale: 'en' }).subject,
      /^Ihr/,
    );
  });

  test('a locale this version does not speak (a row from a newer one) falls back to DEFAULT_LOCALE', () => {
    const unknown = { ...message, locale: 'fr' } as unknown as EmailMessage;
    assert.match(renderEmail(unknown, { ...options, defaultLocale: 'de' }).subject, /^Ihr/);
  });
});
