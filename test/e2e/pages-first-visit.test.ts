import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { DependencyUnavailableError } from '../../src/flows/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { generatePassword, registerVerifiedAccount, uniqueEmail } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

// What a first-time visitor meets on the hosted pages: a language switcher on every page that keeps the query
// and is remembered, a language for the account, session times a person reads at a glance, a sign-in refusal
// said once, notices that do not come back on reload, and a spent budget that keeps the form.

const appOrigin = 'https://app.example.com';
const sameOrigin = { 'sec-fetch-site': 'same-origin' };
const englishBrowser = { 'accept-language': 'en-GB,en;q=0.9' };

/** The `name=value` of a Set-Cookie header for `name`, or undefined. */
function cookieFrom(answer: Response, name: string): string | undefined {
  return answer.headers
    .getSetCookie()
    .find((line) => line.startsWith(`${name}=`))
    ?.split(';')[0];
}

const occurrencesOf = (text: string, part: string): number => text.split(part).length - 1;

for (const backend of availableBackends()) {
  describe(`the hosted pages for a first-time visitor (${backend})`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend, { RETURN_TO_ORIGINS: appOrigin });
    });
    after(async () => {
      await service?.close();
    });

    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${service.baseUrl}${path}`, { redirect: 'manual', headers: { ...englishBrowser, ...headers } });
    const postForm = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${service.baseUrl}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...englishBrowser,
          ...sameOrigin,
          ...headers,
        },
        body: new URLSearchParams(fields).toString(),
      });
    const signIn = async (account: { email: string; password: string }): Promise<string> => {
      const answer = await postForm('/sign-in', account);
      assert.equal(answer.status, 303);
      const cookie = cookieFrom(answer, 'session_id');
      assert.ok(cookie);
      return cookie;
    };

    test('every page links to itself in German, keeping return_to; the link is honoured and remembered', async () => {
      const returnTo = `${appOrigin}/after?x=1`;
      const english = await (await get(`/sign-in?return_to=${encodeURIComponent(returnTo)}`)).text();
      const expected = `/sign-in?${new URLSearchParams({ return_to: returnTo, lang: 'de' }).toString()}`;
      assert.ok(
        english.includes(
          `<a href="${expected.replaceAll('&', '&amp;')}" lang="de" hreflang="de">Deutsch</a>`,
        ),
        'the sign-in page links to its German self with return_to kept',
      );
      for (const path of ['/sign-up', '/forgot-password', '/verify-email?token=nope']) {
        assert.match(
          await (await get(path)).text(),
          /<nav class="languages" aria-label="Language"><a href="[^"]*lang=de"/,
        );
      }

      const german = await get(expected);
      assert.equal(german.status, 200);
      assert.equal(german.headers.get('content-language'), 'de');
      const germanHtml = await german.text();
      assert.match(germanHtml, /<title>Anmelden · /);
      assert.match(
        germanHtml,
        /<input type="hidden" name="return_to" value="https:\/\/app\.example\.com\/after\?x=1">/,
      );
      assert.match(germanHtml, /lang="en" hreflang="en">English<\/a>/);
      const remembered = german.headers.getSetCookie().find((line) => line.startsWith('page_lang='));
      assert.ok(remembered, 'the choice is remembered');
      assert.match(remembered, /^page_lang=de;/);
      assert.match(remembered, /SameSite=Lax/i);
      assert.match(remembered, /Path=\//);

      // The next page, without ?lang and with an English browser, stays German; ?lang=en goes back.
      const cookie = cookieFrom(german, 'page_lang') ?? '';
      const next = await get('/sign-up', { cookie });
      assert.equal(next.headers.get('content-language'), 'de');
      assert.match(await next.text(), /<title>Konto anlegen · /);
      const back = await get('/sign-up?lang=en', { cookie });
      assert.equal(back.headers.get('content-language'), 'en');
      assert.match(back.headers.getSetCookie().join('\n'), /page_lang=en;/);
    });

    test('a language that is not offered is ignored and never reflected', async () => {
      for (const lang of ['xx', '<script>alert(1)</script>', 'de"onmouseover="x']) {
        const answer = await get(`/sign-in?lang=${encodeURIComponent(lang)}`);
        assert.equal(answer.status, 200, lang);
        assert.equal(answer.headers.get('content-language'), 'en', lang);
        const html = await answer.text();
        assert.ok(!html.includes('<script>alert'), lang);
        assert.ok(!html.includes('onmouseover'), lang);
        assert.equal(answer.headers.getSetCookie().filter((line) => line.startsWith('page_lang=')).length, 0);
      }
      const badCookie = await get('/sign-in', { cookie: 'page_lang=<b>' });
      assert.equal(badCookie.headers.get('content-language'), 'en');
    });

    test("the emailed links' pages honour &lang=de", async () => {
      for (const [path, title] of [
        ['/verify-email', 'Link ungültig'],
        ['/reset-password', 'Link ungültig'],
        ['/confirm-email-change', 'Link ungültig'],
        ['/cancel-email-change', 'Link ungültig'],
        ['/restore-account', 'Link ungültig'],
      ] as const) {
        const answer = await get(`${path}?token=not-a-real-token&lang=de`);
        assert.equal(answer.headers.get('content-language'), 'de', path);
        const html = await answer.text();
        assert.match(html, /<html lang="de">/, path);
        assert.ok(html.includes(title), path);
        // The switcher keeps the token: the same link in English.
        assert.ok(html.includes(`href="${path}?token=not-a-real-token&amp;lang=en"`), path);
      }
    });

    test("a link's button pressed when the link no longer works answers the link's own page, with a way on", async () => {
      for (const [path, onward] of [
        ['/verify-email', '/sign-in'],
        ['/reset-password', '/forgot-password'],
        ['/confirm-email-change', '/sign-in'],
        ['/cancel-email-change', '/forgot-password'],
        ['/restore-account', undefined],
      ] as const) {
        const fields = { token: 'A'.repeat(43), new_password: generatePassword() };
        const answer = await postForm(`${path}?lang=de`, fields);
        assert.equal(answer.status, 400, path);
        const html = await answer.text();
        assert.match(html, /<title>Link ungültig · /, path);
        assert.doesNotMatch(html, /Etwas ist schiefgegangen|Something went wrong/, path);
        if (onward !== undefined)
          assert.ok(html.includes(`action="${onward}"`) || html.includes(`href="${onward}"`), path);
      }
    });

    test('the account page has a Language form; the choice changes the pages and the emails, once noticed', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const session = await signIn(account);
      const page = await (await get('/account', { cookie: session })).text();
      assert.match(page, /<h2 id="language">Language<\/h2>/);
      assert.match(
        page,
        /<select id="language-locale" name="locale"><option value="en" lang="en" selected>English<\/option><option value="de" lang="de">Deutsch<\/option><\/select>/,
      );

      const changed = await postForm('/account/locale', { locale: 'de' }, { cookie: session });
      assert.equal(changed.status, 303);
      assert.equal(changed.headers.get('location'), '/account');
      const notice = cookieFrom(changed, 'page_notice');
      assert.ok(notice, 'a one-time notice rides to the next page');
      const browserLanguage = cookieFrom(changed, 'page_lang');
      assert.equal(browserLanguage, 'page_lang=de');

      // The account's language wins over an English browser, even without the browser's cookie.
      const shown = await get('/account', { cookie: `${session}; ${notice}` });
      assert.equal(shown.headers.get('content-language'), 'de');
      const shownHtml = await shown.text();
      assert.match(shownHtml, /Gespeichert: Ihre Seiten und E-Mails sind ab jetzt auf Deutsch\./);
      assert.match(shownHtml, /<option value="de" lang="de" selected>Deutsch<\/option>/);
      assert.match(shown.headers.getSetCookie().join('\n'), /page_notice=;/, 'the notice is cleared');
      // A reload (the browser sent the cleared cookie no more) shows no notice.
      const reloaded = await (await get('/account', { cookie: session })).text();
      assert.doesNotMatch(reloaded, /Gespeichert/);
      assert.match(reloaded, /<html lang="de">/);
      // A language picked for this browser still wins over the account's.
      assert.match(await (await get('/account?lang=en', { cookie: session })).text(), /<html lang="en">/);

      // The next email of the account is German.
      const sent = await postForm('/forgot-password', { email: account.email });
      assert.equal(sent.status, 200);
      const email = await service.smtp.waitForEmail(
        (candidate) =>
          candidate.to.toLowerCase() === account.email.toLowerCase() && /zurück/.test(candidate.subject),
        10_000,
      );
      assert.match(email.subject, /Setzen Sie Ihr .*-Passwort zurück/);

      // A value that is not offered changes nothing and says so next to the field.
      const refused = await postForm('/account/locale', { locale: 'fr' }, { cookie: session });
      assert.equal(refused.status, 422);
      const refusedHtml = await refused.text();
      assert.match(refusedHtml, /id="language-locale" name="locale" aria-invalid="true"/);
      assert.match(refusedHtml, /Wählen Sie eine der Sprachen aus der Liste\./);
      const stored = await service.query<{ locale: string }>('select locale from users where email = $1', [
        account.email,
      ]);
      assert.equal(stored[0]?.locale, 'de');
    });

    test('POST /me/locale sets the language from the API; anything else is a 4xx that changes nothing', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const login = await fetch(`${service.baseUrl}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(account),
      });
      const token = ((await login.json()) as { access_token: string }).access_token;
      const setLocale = (body: string, type = 'application/json') =>
        fetch(`${service.baseUrl}/me/locale`, {
          method: 'POST',
          headers: { 'content-type': type, authorization: `Bearer ${token}` },
          body,
        });
      const storedLocale = async (): Promise<string | null | undefined> =>
        (
          await service.query<{ locale: string | null }>('select locale from users where email = $1', [
            account.email,
          ])
        )[0]?.locale;

      const done = await setLocale(JSON.stringify({ locale: 'de' }));
      assert.equal(done.status, 200);
      assert.deepEqual(await done.json(), { locale: 'de' });
      assert.equal(await storedLocale(), 'de');

      for (const body of [
        JSON.stringify({ locale: 'fr' }),
        JSON.stringify({ locale: 'DE' }),
        JSON.stringify({}),
      ]) {
        const refused = await setLocale(body);
        assert.equal(refused.status, 422, body);
        assert.equal(((await refused.json()) as { code: string }).code, 'invalid_request');
      }
      const asForm = await setLocale('locale=en', 'application/x-www-form-urlencoded');
      assert.equal(asForm.status, 415);
      const anonymous = await fetch(`${service.baseUrl}/me/locale`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ locale: 'en' }),
      });
      assert.equal(anonymous.status, 401);
      assert.equal(await storedLocale(), 'de');
    });

    test('session times read "just now", with the exact UTC time in <time datetime>', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const session = await signIn(account);
      const html = await (await get('/account', { cookie: session })).text();
      const time =
        /<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)" title="(\d{4}-\d\d-\d\d \d\d:\d\d) UTC">just now<\/time>/.exec(
          html,
        );
      assert.ok(time, 'a relative time with its exact UTC time');
      assert.equal(time[2], `${time[1]!.slice(0, 10)} ${time[1]!.slice(11, 16)}`);
      assert.match(html, /Signed in <time[^>]*>just now<\/time>, last active <time[^>]*>just now<\/time>/);
      const german = await (await get('/account?lang=de', { cookie: session })).text();
      assert.match(german, /Angemeldet <time[^>]*>gerade eben<\/time>/);
    });

    test('a wrong password is said once, above the form, and the password field has the focus', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const answer = await postForm('/sign-in', { email: account.email, password: 'not the password' });
      assert.equal(answer.status, 401);
      const html = await answer.text();
      assert.equal(occurrencesOf(html, 'The email address or password is not right.'), 1);
      assert.match(
        html,
        /<div class="error-summary" role="alert">\n<h2>There is a problem<\/h2>\n<p>The email address or password is not right\.<\/p>/,
      );
      assert.doesNotMatch(html, /aria-invalid/);
      assert.match(html, /<input id="password" name="password"[^>]*autofocus>/);

      // A field's own problem: the summary links to the field by its name, the words are next to the field.
      const missing = await (await postForm('/sign-in', { email: '', password: 'whatever it is' })).text();
      assert.equal(occurrencesOf(missing, 'Enter your email address.'), 1);
      assert.match(missing, /<li><a href="#email">Email address<\/a><\/li>/);
      assert.match(missing, /<p class="field-error" id="email-error">Enter your email address\.<\/p>/);
    });

    test('"signed out" shows once after signing out: not on reload, not from a shared address', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const session = await signIn(account);
      const signedOut = await postForm('/sign-out', {}, { cookie: session });
      assert.equal(signedOut.status, 303);
      assert.equal(signedOut.headers.get('location'), '/sign-in');
      const notice = cookieFrom(signedOut, 'page_notice');
      assert.ok(notice);
      const first = await get('/sign-in', { cookie: notice });
      assert.match(await first.text(), /You are signed out\./);
      assert.match(first.headers.getSetCookie().join('\n'), /page_notice=;/);
      assert.doesNotMatch(await (await get('/sign-in')).text(), /You are signed out\./);
      assert.doesNotMatch(await (await get('/sign-in?notice=signed_out')).text(), /You are signed out\./);
      // A notice meant for another page, or made up, shows nothing.
      assert.doesNotMatch(
        await (await get('/sign-in', { cookie: 'page_notice=others_ended' })).text(),
        /class="notice"/,
      );
      assert.doesNotMatch(
        await (await get('/sign-in', { cookie: 'page_notice=<b>hi</b>' })).text(),
        /class="notice"|<b>hi/,
      );
    });
  });
}

describe('hosted pages: a spent budget keeps the form', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService('embedded', {
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMITS: 'ip.login=1/60,ip.request_password_reset=1/60',
    });
  });
  after(async () => {
    await service?.close();
  });

  const postForm = (path: string, fields: Record<string, string>) =>
    fetch(`${service.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sameOrigin },
      body: new URLSearchParams(fields).toString(),
    });

  test('the second sign-in or reset request in a minute is the form again, the address kept, the wait above it', async () => {
    for (const path of ['/sign-in', '/forgot-password']) {
      const fields = { email: 'someone@example.com', password: 'a password typed in' };
      await postForm(path, fields);
      const refused = await postForm(path, fields);
      assert.equal(refused.status, 429, path);
      assert.ok(Number(refused.headers.get('retry-after')) > 0, path);
      const html = await refused.text();
      assert.match(html, /<p>Too many attempts\. Try again in 1 min\.<\/p>/, path);
      assert.match(html, new RegExp(`<form method="post" action="${path}" novalidate>`), path);
      assert.match(html, /value="someone@example.com"/, path);
      assert.doesNotMatch(html, /a password typed in/, path);
    }
  });
});

describe('hosted sign-out when the audit trail is down', () => {
  test('the session ends, the page goes on, and a log line stands in for the audit row', async () => {
    const service = await startTestService('embedded');
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString('utf8'));
          callback();
        },
      }),
    });
    // The service's own stores, but an audit trail that cannot be written (PostgreSQL down for the audit row).
    const deps = service.deps;
    const unavailableAudit = {
      ...deps.http.account.audit,
      appendAuditEvent: async (): Promise<void> => {
        throw new DependencyUnavailableError('PostgreSQL');
      },
      listAuditEvents: deps.http.account.audit.listAuditEvents.bind(deps.http.account.audit),
    };
    const app = await buildApp(
      { ...deps.http, account: { ...deps.http.account, audit: unavailableAudit } },
      { logger, trustProxy: service.config.http.trustProxy },
    );
    try {
      const account = { email: uniqueEmail('audit-down'), password: generatePassword() };
      await registerVerifiedAccount(service.baseUrl, service.smtp, {
        email: account.email,
        password: account.password,
      });
      // Signed in while the audit trail works (the service itself); signed out on the app whose trail is down.
      const signedIn = await service.app.inject({
        method: 'POST',
        url: '/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sameOrigin },
        payload: new URLSearchParams(account).toString(),
      });
      assert.equal(signedIn.statusCode, 303);
      const session = signedIn.cookies.find((cookie) => cookie.name === 'session_id');
      assert.ok(session);
      const signedOut = await app.inject({
        method: 'POST',
        url: '/sign-out',
        headers: { ...sameOrigin, cookie: `session_id=${session.value}` },
      });
      assert.equal(signedOut.statusCode, 303);
      assert.equal(signedOut.headers.location, '/sign-in');
      const stillIn = await app.inject({
        method: 'GET',
        url: '/me',
        headers: { authorization: `Bearer ${session.value}` },
      });
      assert.equal(stillIn.statusCode, 401, 'the session has ended');
      const standIn = lines.find(
        (line) => /"event":"logout"/.test(line) && /"outcome":"audit_unavailable"/.test(line),
      );
      assert.ok(standIn, 'a log line stands in for the missing audit row');
      assert.match(standIn, /"route":"\/sign-out"/);
    } finally {
      await app.close();
      await service.close();
    }
  });
});
