import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generatePassword, tokenInEmail, uniqueEmail } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

// The second language end to end: the locale chosen at registration, the emails that follow it through the
// real SMTP server, and the pages that follow the request or the signed-in account.

const sameOrigin = { 'sec-fetch-site': 'same-origin' };
const germanBrowser = { 'accept-language': 'de-DE,de;q=0.9' };

async function register(
  service: TestService,
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<void> {
  const answer = await fetch(`${service.baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  assert.equal(answer.status, 200, await answer.text());
}

const verificationEmailTo = (service: TestService, to: string) =>
  service.smtp.waitForEmail((email) => email.to.toLowerCase() === to.toLowerCase(), 10_000);

const storedLocaleOf = async (service: TestService, email: string): Promise<string | null | undefined> =>
  (await service.query<{ locale: string | null }>('select locale from users where email = $1', [email]))[0]
    ?.locale;

const postForm = (
  service: TestService,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  fetch(`${service.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...sameOrigin, ...headers },
    body: new URLSearchParams(fields).toString(),
  });

for (const backend of availableBackends()) {
  describe(`languages (${backend}, DEFAULT_LOCALE unset)`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend);
    });
    after(async () => {
      await service?.close();
    });

    test('a German browser registers: German email, German link page, German account page and later emails', async () => {
      const email = uniqueEmail('deutsch');
      const password = generatePassword();
      await register(service, { email, password }, germanBrowser);

      const verification = await verificationEmailTo(service, email);
      assert.equal(verification.subject, 'Bestätigen Sie Ihre E-Mail-Adresse für Latchkey');
      assert.match(verification.text, /Willkommen bei Latchkey\. Bestätigen Sie mit diesem Link/);
      assert.match(verification.text, /Der Link ist gültig bis \d\d:\d\d UTC am \d{1,2}\. \S+ \d{4}\./);
      assert.match(verification.html, /<html lang="de">/);
      assert.equal(await storedLocaleOf(service, email), 'de');

      const token = tokenInEmail(verification, '/verify-email');
      const link = verification.links.find((candidate) => new URL(candidate).pathname === '/verify-email')!;
      const linkPage = await fetch(link, { headers: germanBrowser });
      assert.equal(linkPage.status, 200);
      assert.equal(linkPage.headers.get('content-language'), 'de');
      assert.match(linkPage.headers.get('vary') ?? '', /Accept-Language/i);
      const linkHtml = await linkPage.text();
      assert.match(linkHtml, /<html lang="de">/);
      assert.match(linkHtml, /Meine E-Mail-Adresse bestätigen/);

      const confirmed = await postForm(service, '/verify-email', { token }, germanBrowser);
      assert.equal(confirmed.status, 200);
      assert.match(await confirmed.text(), /Ihre E-Mail-Adresse ist bestätigt/);

      // Signed in from a browser that names no language: the account page speaks the account's language.
      const signedIn = await postForm(service, '/sign-in', { email, password });
      assert.equal(signedIn.status, 303);
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
      const account = await fetch(`${service.baseUrl}/account`, { headers: { cookie } });
      assert.equal(account.status, 200);
      assert.equal(account.headers.get('content-language'), 'de');
      const accountHtml = await account.text();
      assert.match(accountHtml, /<html lang="de">/);
      assert.match(accountHtml, /Wo Sie angemeldet sind/);

      // A later email, asked for without any language: the account's own.
      const reset = await postForm(service, '/forgot-password', { email });
      assert.equal(reset.status, 200);
      const resetEmail = await service.smtp.waitForEmail(
        (candidate) =>
          candidate.to === email && candidate.links.some((url) => url.includes('/reset-password?')),
      );
      assert.equal(resetEmail.subject, 'Setzen Sie Ihr Latchkey-Passwort zurück');
    });

    test('locale "en" in the body wins over a German Accept-Language', async () => {
      const email = uniqueEmail('english');
      await register(service, { email, password: generatePassword(), locale: 'en' }, germanBrowser);
      const verification = await verificationEmailTo(service, email);
      assert.equal(verification.subject, 'Verify your email address for Latchkey');
      assert.match(verification.html, /<html lang="en">/);
      assert.equal(await storedLocaleOf(service, email), 'en');
    });

    test('an unsupported locale and language fall back to DEFAULT_LOCALE (English here)', async () => {
      const email = uniqueEmail('francais');
      await register(
        service,
        { email, password: generatePassword(), locale: 'fr' },
        { 'accept-language': 'fr-FR,fr;q=0.9,es;q=0.5' },
      );
      const verification = await verificationEmailTo(service, email);
      assert.equal(verification.subject, 'Verify your email address for Latchkey');
      assert.equal(await storedLocaleOf(service, email), 'en');
    });

    test('the sign-up page follows Accept-Language and ?lang=, and its form stores the language', async () => {
      const german = await fetch(`${service.baseUrl}/sign-up`, { headers: germanBrowser });
      assert.equal(german.headers.get('content-language'), 'de');
      assert.match(await german.text(), /<h1>Ihr Latchkey-Konto anlegen<\/h1>/);
      const chosen = await fetch(`${service.baseUrl}/sign-up?lang=de`);
      assert.equal(chosen.headers.get('content-language'), 'de');
      const english = await fetch(`${service.baseUrl}/sign-up`, {
        headers: { 'accept-language': 'de;q=0.1, en' },
      });
      assert.equal(english.headers.get('content-language'), 'en');
      assert.match(await english.text(), /<h1>Create your Latchkey account<\/h1>/);

      const email = uniqueEmail('formular');
      const sent = await postForm(
        service,
        '/sign-up',
        { email, password: generatePassword() },
        germanBrowser,
      );
      assert.equal(sent.status, 200);
      assert.match(await sent.text(), /Sehen Sie in Ihr Postfach/);
      assert.equal(
        (await verificationEmailTo(service, email)).subject,
        'Bestätigen Sie Ihre E-Mail-Adresse für Latchkey',
      );
      assert.equal(await storedLocaleOf(service, email), 'de');
    });

    test('a form shown in German by ?lang=de posts its language: German answer, email and account', async () => {
      const shown = await (
        await fetch(`${service.baseUrl}/sign-up?lang=de`, { headers: { 'accept-language': 'en' } })
      ).text();
      assert.match(shown, /<input type="hidden" name="locale" value="de">/);
      const email = uniqueEmail('lang-query');
      const english = { 'accept-language': 'en' };
      const refused = await postForm(service, '/sign-up', { email, password: 'kurz', locale: 'de' }, english);
      assert.equal(refused.status, 422);
      assert.match(await refused.text(), /Verwenden Sie mindestens/);
      const sent = await postForm(
        service,
        '/sign-up',
        { email, password: generatePassword(), locale: 'de' },
        english,
      );
      assert.equal(sent.headers.get('content-language'), 'de');
      assert.equal(
        (await verificationEmailTo(service, email)).subject,
        'Bestätigen Sie Ihre E-Mail-Adresse für Latchkey',
      );
      assert.equal(await storedLocaleOf(service, email), 'de');
    });

    test('JSON errors stay English whatever the language asked for', async () => {
      const answer = await fetch(`${service.baseUrl}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...germanBrowser },
        body: JSON.stringify({ email: uniqueEmail('nobody'), password: generatePassword() }),
      });
      assert.equal(answer.status, 401);
      const body = (await answer.json()) as { code: string; detail?: string; message?: string };
      assert.equal(body.code, 'invalid_credentials');
      assert.doesNotMatch(JSON.stringify(body), /Passwort|stimmen/);
      assert.equal(answer.headers.get('content-language'), null);
    });
  });

  describe(`languages (${backend}, DEFAULT_LOCALE=de)`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend, { DEFAULT_LOCALE: 'de' });
    });
    after(async () => {
      await service?.close();
    });

    test('with no language named anywhere, registration, emails and pages are German', async () => {
      const email = uniqueEmail('standard');
      await register(service, { email, password: generatePassword() });
      assert.equal(
        (await verificationEmailTo(service, email)).subject,
        'Bestätigen Sie Ihre E-Mail-Adresse für Latchkey',
      );
      assert.equal(await storedLocaleOf(service, email), 'de');
      const page = await fetch(`${service.baseUrl}/sign-in`);
      assert.equal(page.headers.get('content-language'), 'de');
      assert.match(await page.text(), /<html lang="de">/);
    });

    test('an English browser still gets English', async () => {
      const email = uniqueEmail('english-browser');
      await register(
        service,
        { email, password: generatePassword() },
        { 'accept-language': 'en-GB,en;q=0.8' },
      );
      assert.equal(
        (await verificationEmailTo(service, email)).subject,
        'Verify your email address for Latchkey',
      );
      const page = await fetch(`${service.baseUrl}/sign-in`, { headers: { 'accept-language': 'en' } });
      assert.equal(page.headers.get('content-language'), 'en');
    });
  });
}
