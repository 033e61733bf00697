import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generatePassword, registerVerifiedAccount, uniqueEmail } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

// The hosted pages over plain HTTP: the enumeration rules of the API, the login-CSRF rule, return_to, and the
// deployment's name, colour and language. The browser journeys are in test/e2e/browser/.

const appOrigin = 'https://app.example.com';
const sameOrigin = { 'sec-fetch-site': 'same-origin' };

for (const backend of availableBackends()) {
  describe(`hosted pages over HTTP (${backend})`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend, {
        RETURN_TO_ORIGINS: appOrigin,
        PRODUCT_NAME: 'Acme <Cloud>',
        BRAND_COLOR: '#0B5FFF',
      });
    });
    after(async () => {
      await service?.close();
    });

    const postForm = (
      path: string,
      fields: Record<string, string>,
      headers: Record<string, string> = sameOrigin,
    ) =>
      fetch(`${service.baseUrl}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields).toString(),
      });

    test('sign-up and forgot-password answer the same page for a registered and a new address', async () => {
      const known = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const unknown = uniqueEmail('never-registered');
      const pageFor = async (path: string, email: string, fields: Record<string, string>) => {
        const answer = await postForm(path, { email, ...fields });
        return { status: answer.status, body: (await answer.text()).replaceAll(email, '<address>') };
      };
      const password = generatePassword();
      assert.deepEqual(
        await pageFor('/sign-up', known.email, { password }),
        await pageFor('/sign-up', unknown, { password }),
      );
      assert.deepEqual(
        await pageFor('/forgot-password', known.email, {}),
        await pageFor('/forgot-password', uniqueEmail('other'), {}),
      );
      const sent = await pageFor('/forgot-password', known.email, {});
      assert.equal(sent.status, 200);
      assert.match(sent.body, /If <address> has an account, a reset link is on its way/);
    });

    test('sign-in and sign-up forms are accepted only from this origin (login CSRF)', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const refusals: Record<string, string>[] = [
        {},
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { 'sec-fetch-site': 'none' },
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { origin: service.baseUrl, 'sec-fetch-site': 'cross-site' },
      ];
      for (const headers of refusals) {
        for (const path of ['/sign-in', '/sign-up']) {
          const answer = await postForm(path, account, headers);
          assert.equal(answer.status, 403, `${path} with ${JSON.stringify(headers)}`);
          assert.match(await answer.text(), /sent from another site/);
          assert.equal(answer.headers.get('set-cookie'), null);
        }
      }
      const byOrigin = await postForm('/sign-in', account, { origin: service.config.http.appBaseUrl.origin });
      assert.equal(byOrigin.status, 303);
      const byFetchMetadata = await postForm('/sign-in', account);
      assert.equal(byFetchMetadata.status, 303);
      assert.match(byFetchMetadata.headers.get('set-cookie') ?? '', /^session_id=/);
    });

    test('return_to is honoured for a listed origin only, after signing in and in the forms', async () => {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const listed = `${appOrigin}/after?x=1`;
      const signedIn = await postForm('/sign-in', { ...account, return_to: listed });
      assert.equal(signedIn.status, 303);
      assert.equal(signedIn.headers.get('location'), listed);
      for (const trick of [
        '//evil.example',
        `${appOrigin}.evil.example/`,
        'javascript:alert(1)',
        '/\\evil.example',
        `https://app.example.com@evil.example/`,
      ]) {
        const answer = await postForm('/sign-in', { ...account, return_to: trick });
        assert.equal(answer.headers.get('location'), '/account', trick);
        const form = await (
          await fetch(`${service.baseUrl}/sign-in?return_to=${encodeURIComponent(trick)}`)
        ).text();
        assert.doesNotMatch(form, /name="return_to"/, trick);
      }
      const form = await (
        await fetch(`${service.baseUrl}/sign-up?return_to=${encodeURIComponent(listed)}`)
      ).text();
      assert.match(
        form,
        /<input type="hidden" name="return_to" value="https:\/\/app\.example\.com\/after\?x=1">/,
      );
      const csp = (await fetch(`${service.baseUrl}/sign-in`)).headers.get('content-security-policy') ?? '';
      assert.match(csp, /form-action 'self' https:\/\/app\.example\.com;/);
      assert.match(csp, /script-src 'self';/);
    });

    test('the pages show PRODUCT_NAME (escaped) and BRAND_COLOR, and say their language', async () => {
      const page = await fetch(`${service.baseUrl}/sign-in`);
      assert.equal(page.headers.get('content-language'), 'en');
      const html = await page.text();
      assert.match(html, /<html lang="en">/);
      assert.match(html, /<title>Sign in · Acme &lt;Cloud&gt;<\/title>/);
      assert.match(html, /<h1>Sign in to Acme &lt;Cloud&gt;<\/h1>/);
      assert.doesNotMatch(html, /<script|style=/);
      const css = await fetch(`${service.baseUrl}/assets/latchkey.css`);
      assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
      assert.match(await css.text(), /--brand: #0b5fff;/);
      const link = await fetch(`${service.baseUrl}/verify-email?token=nope`);
      assert.equal(link.headers.get('content-language'), 'en');
    });

    test('a refused sign-up keeps the address, never the password, and marks the field', async () => {
      const password = 'short';
      const answer = await postForm('/sign-up', { email: 'someone@example.com', password });
      assert.equal(answer.status, 422);
      const html = await answer.text();
      assert.match(html, /value="someone@example.com"/);
      assert.doesNotMatch(html, /value="short"/);
      assert.match(
        html,
        /id="password"[^>]*aria-invalid="true"[^>]*aria-describedby="password-hint password-error"[^>]*autofocus/,
      );
      assert.match(html, /<p class="field-error" id="password-error">Use at least 15 characters.<\/p>/);
    });
  });
}

describe('hosted pages: a spent budget is a page', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService('embedded', {
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMITS: 'ip.request_password_reset=1/60',
    });
  });
  after(async () => {
    await service?.close();
  });

  test('the second forgot-password post in a minute is a 429 page with Retry-After, in minutes', async () => {
    const post = () =>
      fetch(`${service.baseUrl}/forgot-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=someone%40example.com',
      });
    assert.equal((await post()).status, 200);
    const refused = await post();
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('content-type') ?? '', /^text\/html/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.match(await refused.text(), /Too many attempts\. Try again in 1 min\./);
  });
});
