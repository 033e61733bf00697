import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderAccountPage } from '../../src/http/pages/account.ts';
import { runInPageLocale } from '../../src/http/pages/messages.ts';
import type { SessionView } from '../../src/flows/sessions.ts';
import type { Locale } from '../../src/security/locale.ts';

// Session times on the account page: how long ago, in the page's language, with the exact UTC time kept in
// <time datetime> and its title; no script involved.

const site = { productName: 'Latchkey', brandColor: '#2f5bd3', defaultLocale: 'en' } as const;
const now = new Date('2026-12-01T12:00:00.000Z');

function sessionView(createdAt: Date, lastSeenAt: Date): SessionView {
  return {
    id: 'session-1',
    createdAt,
    lastSeenAt,
    expiresAt: new Date(now.getTime() + 86_400_000),
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (Windows NT 10.0) Firefox/140.0',
    current: false,
  };
}

function renderIn(locale: Locale, session: SessionView): string {
  let html = '';
  runInPageLocale(locale, () => {
    html = renderAccountPage(site, {
      email: 'ada@example.com',
      isVerified: true,
      sessions: [session],
      minimumPasswordLength: 15,
      now,
      locale,
    });
  });
  return html;
}

test('a session started three minutes ago and seen a day ago reads so, in English and in German', () => {
  const session = sessionView(new Date('2026-12-01T11:57:00.000Z'), new Date('2026-11-30T11:00:00.000Z'));
  const english = renderIn('en', session);
  assert.match(
    english,
    /Signed in <time datetime="2026-12-01T11:57:00.000Z" title="2026-12-01 11:57 UTC">3 minutes ago<\/time>, last active <time datetime="2026-11-30T11:00:00.000Z" title="2026-11-30 11:00 UTC">yesterday<\/time>, from 203\.0\.113\.7/,
  );
  assert.match(english, /aria-label="Sign out Firefox on Windows, signed in 3 minutes ago"/);
  const german = renderIn('de', session);
  assert.match(
    german,
    /Angemeldet <time[^>]*>vor 3 Minuten<\/time>, zuletzt aktiv <time[^>]*>gestern<\/time>/,
  );
});

test('under a minute is "just now"; hours and days count down from the largest unit', () => {
  const cases: [number, string, string][] = [
    [20, 'just now', 'gerade eben'],
    [2 * 3600 + 59 * 60, '2 hours ago', 'vor 2 Stunden'],
    [5 * 86_400, '5 days ago', 'vor 5 Tagen'],
  ];
  for (const [secondsAgo, english, german] of cases) {
    const at = new Date(now.getTime() - secondsAgo * 1000);
    const session = sessionView(at, at);
    assert.match(renderIn('en', session), new RegExp(`Signed in <time[^>]*>${english}</time>`), english);
    assert.match(renderIn('de', session), new RegExp(`Angemeldet <time[^>]*>${german}</time>`), german);
  }
});
