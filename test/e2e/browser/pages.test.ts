import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  browserSkipReason,
  findSeriousAccessibilityIssues,
  launchChromium,
  recordPolicyViolations,
  reportPolicyViolationsScript,
} from '../../support/browser.ts';
import { generatePassword, registerVerifiedAccount, uniqueEmail } from '../../support/journeys.ts';
import {
  availableBackends,
  findFreePort,
  startTestService,
  type TestService,
} from '../../support/service.ts';

// A person in Debian's Chromium, with JavaScript on and off: sign up, the emailed link, sign in, the account
// page, another session ended, the password changed, signed out, a forgotten password reset; no CSP violation
// and no serious axe finding on any page; return_to honoured for a listed origin and refused otherwise.

const skip = browserSkipReason();
if (skip !== undefined) console.log(`# ${skip}`);

for (const backend of availableBackends())
  describe(`the hosted pages in a real browser (${backend})`, { skip: skip ?? false }, () => {
    let service: TestService;
    let browser: Browser;
    let app: Server;
    let appOrigin: string;

    before(async () => {
      const appPort = await findFreePort();
      appOrigin = `http://127.0.0.1:${appPort}`;
      app = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(
          '<!doctype html><html lang="en"><title>The app</title><h1>Welcome back to the app</h1></html>',
        );
      });
      await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
      service = await startTestService(backend, {
        RETURN_TO_ORIGINS: appOrigin,
        PRODUCT_NAME: 'Acme Cloud',
        BRAND_COLOR: '#6d28d9',
      });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await service?.close();
      await new Promise((resolve) => app?.close(resolve));
    });

    /** A fresh browser profile; with JavaScript on, CSP violations are reported to the console too. */
    async function openContext(
      javaScriptEnabled: boolean,
      locale?: string,
    ): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
      const context = await browser.newContext({
        javaScriptEnabled,
        baseURL: service.baseUrl,
        ...(locale !== undefined && { locale }),
      });
      if (javaScriptEnabled) await context.addInitScript(reportPolicyViolationsScript);
      const page = await context.newPage();
      return { context, page, violations: recordPolicyViolations(page) };
    }

    async function checkAccessibility(page: Page, javaScriptEnabled: boolean): Promise<void> {
      if (!javaScriptEnabled) return;
      const issues = await findSeriousAccessibilityIssues(page);
      assert.deepEqual(issues, [], `axe on ${page.url()}`);
    }

    async function emailedLink(to: string, path: string): Promise<string> {
      const email = await service.smtp.waitForEmail(
        (candidate) =>
          candidate.to.toLowerCase() === to.toLowerCase() &&
          candidate.links.some((link) => new URL(link).pathname === path && link.includes('token=')),
        15_000,
      );
      const link = email.links.find(
        (candidate) => new URL(candidate).pathname === path && candidate.includes('token='),
      );
      assert.ok(link, `a ${path} link in the email to ${to}`);
      return link;
    }

    for (const javaScriptEnabled of [true, false]) {
      test(`the whole journey with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, async () => {
        const { context, page, violations } = await openContext(javaScriptEnabled);
        const email = uniqueEmail('browser');
        const password = generatePassword();
        const newPassword = generatePassword();
        try {
          // Sign up.
          await page.goto('/sign-up');
          assert.equal(await page.title(), 'Create an account · Acme Cloud');
          assert.equal(await page.getAttribute('html', 'lang'), 'en');
          await checkAccessibility(page, javaScriptEnabled);
          await page.getByLabel('Email address').fill(email);
          await page.getByLabel('Password').fill('short');
          await page.getByRole('button', { name: 'Create account' }).click();
          // Refused next to the field, the address refilled, the password not.
          await page.getByText('Use at least 15 characters.').first().waitFor();
          assert.equal(await page.getByLabel('Email address').inputValue(), email);
          assert.equal(await page.getByLabel('Password').inputValue(), '');
          assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
          await checkAccessibility(page, javaScriptEnabled);
          await page.getByLabel('Password').fill(password);
          await page.getByRole('button', { name: 'Create account' }).click();
          await page.getByRole('heading', { name: 'Check your email' }).waitFor();

          // The emailed link, then its button.
          await page.goto(await emailedLink(email, '/verify-email'));
          await checkAccessibility(page, javaScriptEnabled);
          await page.getByRole('button', { name: 'Confirm my email address' }).click();
          await page.getByRole('heading', { name: 'Email verified' }).waitFor();
          await checkAccessibility(page, javaScriptEnabled);

          // Sign in: a wrong password first (an error state), then by keyboard only.
          await page.goto('/sign-in');
          await page.getByLabel('Email address').fill(email);
          await page.getByLabel('Password').fill('not the password at all');
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page.getByText('The email address or password is not right.').first().waitFor();
          assert.equal(await page.getByLabel('Email address').inputValue(), email);
          await checkAccessibility(page, javaScriptEnabled);
          // The invalid field has the focus (autofocus): type the password and press Enter.
          await page.keyboard.type(password);
          await page.keyboard.press('Enter');
          await page.waitForURL('**/account');
          await page.getByText(email).waitFor();
          await page.getByText('Verified', { exact: true }).waitFor();
          await checkAccessibility(page, javaScriptEnabled);

          // Another session, made through the API, ended from the page.
          const other = await fetch(`${service.baseUrl}/login`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Firefox/140.0',
            },
            body: JSON.stringify({ email, password }),
          });
          assert.equal(other.status, 200);
          const otherToken = ((await other.json()) as { access_token: string }).access_token;
          await page.reload();
          await page.getByRole('button', { name: /^Sign out Firefox on Windows/ }).click();
          await page.getByText('That device is signed out.').waitFor();
          const me = await fetch(`${service.baseUrl}/me`, {
            headers: { authorization: `Bearer ${otherToken}` },
          });
          assert.equal(me.status, 401, 'the ended session is refused');

          // Change the password: a wrong current one first.
          await page.locator('#password-current_password').fill('wrong current password');
          await page.locator('#password-new_password').fill(newPassword);
          await page.getByRole('button', { name: 'Change password' }).click();
          await page.getByText('Your current password is not right.').first().waitFor();
          assert.equal(await page.locator('#password-current_password').getAttribute('aria-invalid'), 'true');
          await page.locator('#password-current_password').fill(password);
          await page.locator('#password-new_password').fill(newPassword);
          await page.getByRole('button', { name: 'Change password' }).click();
          await page.getByText('Your password is changed; every other device is signed out.').waitFor();

          // Sign out.
          await page.getByRole('button', { name: 'Sign out', exact: true }).click();
          await page.getByText('You are signed out.').waitFor();
          await page.goto('/account');
          await page.waitForURL('**/sign-in');

          // Forgot password, through to signing in with the new one.
          await page.getByRole('link', { name: 'Forgot your password?' }).click();
          await checkAccessibility(page, javaScriptEnabled);
          await page.getByLabel('Email address').fill(email);
          await page.getByRole('button', { name: 'Email me a reset link' }).click();
          await page.getByRole('heading', { name: 'Check your email' }).waitFor();
          await page.goto(await emailedLink(email, '/reset-password'));
          await checkAccessibility(page, javaScriptEnabled);
          await page.getByLabel('New password').fill(email);
          await page.getByRole('button', { name: 'Set new password' }).click();
          await page
            .getByText('Choose a password that does not contain your email address.')
            .first()
            .waitFor();
          assert.equal(await page.getByLabel('New password').getAttribute('aria-invalid'), 'true');
          const finalPassword = generatePassword();
          await page.getByLabel('New password').fill(finalPassword);
          await page.getByRole('button', { name: 'Set new password' }).click();
          await page.getByRole('heading', { name: 'Password changed' }).waitFor();
          await page.getByRole('link', { name: 'Sign in' }).click();
          await page.getByLabel('Email address').fill(email);
          await page.getByLabel('Password').fill(finalPassword);
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page.waitForURL('**/account');
          await page.getByText(email).waitFor();

          assert.deepEqual(violations, [], 'no CSP violation and no script error');
        } finally {
          await context.close();
        }
      });
    }

    test('return_to: a listed origin gets the person back, any other is ignored', async () => {
      const { context, page, violations } = await openContext(true);
      const email = uniqueEmail('return');
      const password = generatePassword();
      try {
        // Sign up from the app; the link onward keeps the return address.
        await page.goto(`/sign-up?return_to=${encodeURIComponent(`${appOrigin}/welcome`)}`);
        await page.getByLabel('Email address').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.getByRole('heading', { name: 'Check your email' }).waitFor();
        const link = await emailedLink(email, '/verify-email');
        assert.equal(new URL(link).searchParams.get('return_to'), `${appOrigin}/welcome`);
        // The same link with a return address that is not listed carries nothing onward.
        const forged = new URL(link);
        forged.searchParams.set('return_to', 'https://evil.example/');
        await page.goto(forged.href);
        await page.getByRole('button', { name: 'Confirm my email address' }).waitFor();
        assert.equal(await page.locator('input[name=return_to]').count(), 0);
        await page.goto(link);
        assert.equal(await page.locator('input[name=return_to]').inputValue(), `${appOrigin}/welcome`);
        await page.getByRole('button', { name: 'Confirm my email address' }).click();
        await page.getByRole('heading', { name: 'Email verified' }).waitFor();
        // Onward to the app, not to a sign-in page of the service.
        await page.getByRole('link', { name: 'Continue' }).click();
        await page.waitForURL(`${appOrigin}/welcome`);

        await page.goto(`/sign-in?return_to=${encodeURIComponent(`${appOrigin}/welcome`)}`);
        await page.getByLabel('Email address').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${appOrigin}/welcome`);
        await page.getByRole('heading', { name: 'Welcome back to the app' }).waitFor();

        // Signed in already: a listed origin is followed at once, the tricks land on the account page.
        await page.goto(`${service.baseUrl}/sign-in?return_to=${encodeURIComponent(`${appOrigin}/again`)}`);
        await page.waitForURL(`${appOrigin}/again`);
        for (const trick of [
          '//evil.example/',
          `${appOrigin}.evil.example/`,
          'javascript:alert(1)',
          '/\\evil.example',
          `https://${new URL(appOrigin).host}@evil.example/`,
        ]) {
          await page.goto(`${service.baseUrl}/sign-in?return_to=${encodeURIComponent(trick)}`);
          await page.waitForURL(`${service.baseUrl}/account`);
        }
        assert.deepEqual(violations, []);
      } finally {
        await context.close();
      }
    });

    test('a German browser signs up in German: the page, its error, the email and its link page; axe finds nothing', async () => {
      const { context, page, violations } = await openContext(true, 'de-DE');
      const email = uniqueEmail('browser-de');
      try {
        await page.goto('/sign-up');
        assert.equal(await page.title(), 'Konto anlegen · Acme Cloud');
        assert.equal(await page.getAttribute('html', 'lang'), 'de');
        await checkAccessibility(page, true);
        await page.getByLabel('E-Mail-Adresse').fill(email);
        await page.getByLabel('Passwort').fill('kurz');
        await page.getByRole('button', { name: 'Konto anlegen' }).click();
        await page.getByText('Verwenden Sie mindestens 15 Zeichen.').first().waitFor();
        await checkAccessibility(page, true);
        await page.getByLabel('Passwort').fill(generatePassword());
        await page.getByRole('button', { name: 'Konto anlegen' }).click();
        await page.getByRole('heading', { name: 'Sehen Sie in Ihr Postfach' }).waitFor();

        await page.goto(await emailedLink(email, '/verify-email'));
        assert.equal(await page.getAttribute('html', 'lang'), 'de');
        await checkAccessibility(page, true);
        await page.getByRole('button', { name: 'Meine E-Mail-Adresse bestätigen' }).click();
        await page.getByRole('heading', { name: 'E-Mail-Adresse bestätigt' }).waitFor();
        assert.deepEqual(violations, []);
      } finally {
        await context.close();
      }
    });

    test('keyboard only: Tab walks the sign-in form in reading order, with a visible focus ring', async () => {
      const { context, page } = await openContext(true);
      try {
        await page.goto('/sign-in');
        const focused: string[] = [];
        for (let step = 0; step < 6; step++) {
          await page.keyboard.press('Tab');
          focused.push(
            await page.evaluate<string>(
              "(document.activeElement?.getAttribute('name') ?? document.activeElement?.textContent ?? '').trim()",
            ),
          );
        }
        assert.deepEqual(focused, [
          'Deutsch',
          'email',
          'password',
          'Sign in',
          'Forgot your password?',
          'Create an account',
        ]);
        await page.keyboard.press('Shift+Tab');
        await page.keyboard.press('Shift+Tab');
        await page.keyboard.press('Shift+Tab');
        const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
        assert.equal(outline, 'solid', 'the focused button shows its focus ring');
      } finally {
        await context.close();
      }
    });

    for (const javaScriptEnabled of [true, false]) {
      test(`a first-time visitor switches the pages to German by a link and they stay German (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
        const { context, page, violations } = await openContext(javaScriptEnabled, 'en-US');
        try {
          await page.goto(`/sign-in?return_to=${encodeURIComponent(`${appOrigin}/welcome`)}`);
          assert.equal(await page.getAttribute('html', 'lang'), 'en');
          await page
            .getByRole('navigation', { name: 'Language' })
            .getByRole('link', { name: 'Deutsch' })
            .click();
          await page.getByRole('heading', { name: 'Bei Acme Cloud anmelden' }).waitFor();
          assert.equal(await page.getAttribute('html', 'lang'), 'de');
          assert.equal(await page.locator('input[name=return_to]').inputValue(), `${appOrigin}/welcome`);
          await checkAccessibility(page, javaScriptEnabled);
          // The next page, reached without ?lang, is German too; the switcher goes back to English.
          await page.getByRole('link', { name: 'Konto anlegen' }).click();
          await page.getByRole('heading', { name: 'Ihr Acme Cloud-Konto anlegen' }).waitFor();
          await page
            .getByRole('navigation', { name: 'Sprache' })
            .getByRole('link', { name: 'English' })
            .click();
          await page.getByRole('heading', { name: 'Create your Acme Cloud account' }).waitFor();
          assert.deepEqual(violations, []);
        } finally {
          await context.close();
        }
      });
    }

    test('the account page: a sign-in refusal said once, times a person reads, the language saved, the notice once', async () => {
      const { context, page, violations } = await openContext(true, 'en-US');
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      try {
        await page.goto('/sign-in');
        await page.getByLabel('Email address').fill(account.email);
        await page.getByLabel('Password').fill('not the password at all');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('alert').waitFor();
        assert.equal(await page.getByText('The email address or password is not right.').count(), 1);
        assert.equal(await page.locator('[aria-invalid=true]').count(), 0);
        await checkAccessibility(page, true);
        await page.keyboard.type(account.password);
        await page.keyboard.press('Enter');
        await page.waitForURL('**/account');

        // The session's times: how long ago, the exact UTC time in <time datetime>.
        const signedIn = page.locator('.sessions time').first();
        assert.equal(await signedIn.textContent(), 'just now');
        assert.match(
          (await signedIn.getAttribute('datetime')) ?? '',
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        );
        assert.match((await signedIn.getAttribute('title')) ?? '', / UTC$/);

        // The account's language, chosen by keyboard.
        await page.getByLabel('Language of your account').focus();
        await page.getByLabel('Language of your account').selectOption('de');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.getByText('Gespeichert: Ihre Seiten und E-Mails sind ab jetzt auf Deutsch.').waitFor();
        assert.equal(await page.getAttribute('html', 'lang'), 'de');
        await page.getByRole('heading', { name: 'Wo Sie angemeldet sind' }).waitFor();
        await checkAccessibility(page, true);
        await page.reload();
        await page.getByRole('heading', { name: 'Wo Sie angemeldet sind' }).waitFor();
        assert.equal(
          await page.getByText('Gespeichert:').count(),
          0,
          'the notice does not come back on reload',
        );
        assert.equal(await page.locator('.sessions time').first().textContent(), 'gerade eben');
        assert.deepEqual(violations, []);
      } finally {
        await context.close();
      }
    });

    test('a sign-in form posted from another site is refused (login CSRF)', async () => {
      const { context, page } = await openContext(false);
      try {
        const email = uniqueEmail('csrf');
        await page.goto(`${appOrigin}/`);
        // The other site's own form, pointed at the sign-in route.
        await page.setContent(
          `<form method="post" action="${service.baseUrl}/sign-in"><input name="email" value="${email}"><input name="password" value="attacker password"><button>go</button></form>`,
        );
        const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button').click()]);
        assert.equal(response?.status(), 403);
        await page.getByText('This form was sent from another site').waitFor();
      } finally {
        await context.close();
      }
    });
  });
