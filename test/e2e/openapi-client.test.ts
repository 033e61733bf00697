import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { createAdminKey } from '../../src/flows/admin-keys.ts';
import type { paths } from '../support/api-types.ts';
import { readHiddenField } from '../support/http-client.ts';
import { apiTypesPath, renderApiTypes } from '../support/openapi-types.ts';
import { startTestService, type TestService } from '../support/service.ts';
import type { CapturedEmail } from '../support/smtp-capture.ts';

// A client generated from /openapi.json (openapi-typescript types + openapi-fetch) drives the journey and its
// error cases; every answer is checked against the description: a documented status, a documented content
// type, a body valid against the documented schema, and the documented headers present.

const password = 'typed client passphrase';
const newPassword = 'another typed passphrase';

/** The default budgets, except /resend-verification, whose second request in a minute is refused. */
// Only resend has a tight budget (its 429 is exercised); the many sign-ups and logins of this file fit in the rest.
const budgets = 'ip.resend_verification=1/60,ip.register=1000/60,ip.login=1000/60';

interface DescribedAnswer {
  readonly headers?: Record<string, unknown>;
  readonly content?: Record<string, { readonly schema: object }>;
}
interface Description {
  readonly paths: Record<string, Record<string, { readonly responses: Record<string, DescribedAnswer> }>>;
}

/** Checks answers against the description; throws (failing the request) on anything it does not describe. */
function createAnswerChecker(
  description: Description,
): (method: string, schemaPath: string, response: Response) => Promise<void> {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    formats: { uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i },
  });
  // The whole description as one schema document: #/components/schemas/… references resolve inside it.
  ajv.addSchema(description, 'openapi');
  const pointer = (...parts: string[]): string =>
    parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

  return async (method, schemaPath, response) => {
    const where = `${method} ${schemaPath} answered ${response.status}`;
    const operation = description.paths[schemaPath]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${schemaPath} is not in the description`);
    const answer = operation.responses[String(response.status)];
    assert.ok(answer, `${where}, a status the description does not list`);
    for (const header of Object.keys(answer.headers ?? {})) {
      assert.ok(response.headers.has(header), `${where} without its documented ${header} header`);
    }
    if (answer.content === undefined) {
      assert.equal(await response.text(), '', `${where} with a body, where the description has none`);
      return;
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const media = answer.content[mediaType];
    assert.ok(media, `${where} as ${mediaType}, a content type the description does not list`);
    const text = await response.text();
    if (method === 'HEAD') {
      assert.equal(text, '', `${where} with a body`);
      return;
    }
    const body: unknown = mediaType === 'application/json' ? JSON.parse(text) : text;
    const validate = ajv.getSchema(
      `openapi#/${pointer('paths', schemaPath, method.toLowerCase(), 'responses', String(response.status), 'content', mediaType, 'schema')}`,
    );
    assert.ok(validate, `${where}: no schema to validate against`);
    assert.ok(
      validate(body),
      `${where} with a body the description refuses: ${ajv.errorsText(validate.errors)}`,
    );
  };
}

/** The code of an error answer that may also be described as a page (a form post's). */
function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : error;
}

function linkTo(email: CapturedEmail, path: string): URL {
  const link = email.links.find((candidate) => new URL(candidate).pathname === path);
  assert.ok(link, `the email has a ${path} link`);
  return new URL(link);
}

describe('a client generated from /openapi.json', () => {
  let service: TestService;
  let description: Description;
  let client: Client<paths>;
  let checkAnswer: ReturnType<typeof createAnswerChecker>;
  const checked: string[] = [];

  before(async () => {
    service = await startTestService('embedded', { RATE_LIMIT_ENABLED: 'true', RATE_LIMITS: budgets });
    description = (await (await fetch(`${service.baseUrl}/openapi.json`)).json()) as Description;
    checkAnswer = createAnswerChecker(description);
    const checking: Middleware = {
      async onResponse({ request, response, schemaPath }) {
        await checkAnswer(request.method, schemaPath, response.clone());
        checked.push(`${request.method} ${schemaPath} ${response.status}`);
      },
    };
    client = createClient<paths>({ baseUrl: service.baseUrl });
    client.use(checking);
  });
  after(async () => {
    await service?.close();
  });

  test('the committed client types are those generated from the served description', async () => {
    const expected = await renderApiTypes(description);
    assert.ok(
      readFileSync(apiTypesPath, 'utf8') === expected,
      'test/support/api-types.ts is stale: run `npm run openapi:types`',
    );
  });

  test('the answer check refuses what the description does not say', async () => {
    const json = { 'content-type': 'application/json' };
    const error = JSON.stringify({ detail: 'x', code: 'not_authenticated' });
    await assert.rejects(checkAnswer('GET', '/me', new Response(error, { status: 418, headers: json })));
    await assert.rejects(
      checkAnswer(
        'GET',
        '/me',
        new Response(error, { status: 401, headers: { 'content-type': 'text/html' } }),
      ),
    );
    const unknownCode = JSON.stringify({ detail: 'x', code: 'no_such_code' });
    await assert.rejects(
      checkAnswer('GET', '/me', new Response(unknownCode, { status: 401, headers: json })),
    );
    const limited = JSON.stringify({ detail: 'x', code: 'rate_limited' });
    await assert.rejects(
      checkAnswer('POST', '/register', new Response(limited, { status: 429, headers: json })),
      /retry-after/,
    );
    await checkAnswer('GET', '/me', new Response(error, { status: 401, headers: json }));
  });

  test('the journey: register, verify, log in (bearer and cookie), who am I, log out, reset, log in again', async () => {
    const email = `typed.client@example.com`;
    const service_ = await client.GET('/');
    assert.equal(service_.data?.message, 'Latchkey Authentication API');

    const registered = await client.POST('/register', { body: { email, password } });
    assert.deepEqual(registered.data, { message: 'User registered successfully' });

    const verifyLink = linkTo(
      await service.smtp.waitForEmail((m) => m.to === email && /verify/i.test(m.subject)),
      '/verify-email',
    );
    const token = verifyLink.searchParams.get('token') ?? '';
    const page = await client.GET('/verify-email', { params: { query: { token } }, parseAs: 'text' });
    assert.equal(page.response.status, 200);
    assert.equal(readHiddenField(page.data ?? '', 'token'), token);
    const verified = await client.POST('/verify-email', { body: { token } });
    assert.deepEqual(verified.data, { message: 'Email verified successfully' });

    const login = await client.POST('/login', { body: { email, password } });
    assert.equal(login.data?.token_type, 'bearer');
    assert.equal(login.data?.user.email, email);
    const accessToken = login.data?.access_token ?? '';
    const cookie = (login.response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    assert.equal(cookie, `session_id=${accessToken}`);

    const byBearer = await client.GET('/me', { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(byBearer.data?.email, email);
    assert.equal(byBearer.data?.is_verified, true);
    const byCookie = await client.GET('/me', { headers: { cookie } });
    assert.equal(byCookie.data?.id, byBearer.data?.id);

    const loggedOut = await client.POST('/logout', { headers: { authorization: `Bearer ${accessToken}` } });
    assert.deepEqual(loggedOut.data, { message: 'Logged out successfully' });
    assert.match(loggedOut.response.headers.get('set-cookie') ?? '', /^session_id=;/);
    const afterLogout = await client.GET('/me', { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(afterLogout.error?.code, 'not_authenticated');

    const requested = await client.POST('/request-password-reset', { body: { email } });
    assert.equal(requested.response.status, 202);
    const resetLink = linkTo(
      await service.smtp.waitForEmail((m) => m.to === email && /reset/i.test(m.subject)),
      '/reset-password',
    );
    const resetToken = resetLink.searchParams.get('token') ?? '';
    const resetPage = await client.GET('/reset-password', {
      params: { query: { token: resetToken } },
      parseAs: 'text',
    });
    assert.match(resetPage.data ?? '', /Choose a new password/);
    const reset = await client.POST('/reset-password', {
      body: { token: resetToken, new_password: newPassword },
    });
    assert.deepEqual(reset.data, { message: 'Password reset successfully' });

    // The form post of the reset page, with the link already used: the refusal as a page.
    const reused = await client.POST('/reset-password', {
      body: { token: resetToken, new_password: newPassword },
      bodySerializer: (body) => new URLSearchParams(body).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      parseAs: 'text',
    });
    assert.equal(reused.response.status, 400);
    assert.match(reused.response.headers.get('content-type') ?? '', /^text\/html/);

    const oldPassword = await client.POST('/login', { body: { email, password } });
    assert.equal(oldPassword.error?.code, 'invalid_credentials');
    const again = await client.POST('/login', { body: { email, password: newPassword } });
    assert.equal(again.response.status, 200);
  });

  test('the error cases: 400, 415, 413, 422, 401, 403 csrf_refused, 429 with Retry-After', async () => {
    const unparseable = await client.POST('/register', {
      body: { email: 'x@example.com', password },
      bodySerializer: () => '{"email": "x@example.com", "password": ',
    });
    assert.equal(unparseable.response.status, 400);
    assert.equal(unparseable.error?.code, 'invalid_request');

    const notJson = await client.POST('/login', {
      body: { email: 'x@example.com', password },
      bodySerializer: () => 'email=x@example.com',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(notJson.response.status, 415);
    assert.equal(notJson.error?.code, 'unsupported_media_type');
    const formToJsonOnly = await client.POST('/register', {
      body: { email: 'x@example.com', password },
      bodySerializer: (body) => new URLSearchParams(body).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(formToJsonOnly.error?.code, 'unsupported_media_type');

    const tooLarge = await client.POST('/register', {
      body: { email: 'x@example.com', password: 'x'.repeat(20 * 1024) },
    });
    assert.equal(tooLarge.response.status, 413);
    assert.equal(tooLarge.error?.code, 'payload_too_large');

    const missing = await client.POST('/register', {
      body: { email: 'x@example.com' } as { email: string; password: string },
    });
    assert.equal(missing.response.status, 422);
    assert.equal(missing.error?.code, 'invalid_request');
    const weak = await client.POST('/register', { body: { email: 'weak@example.com', password: 'short' } });
    assert.equal(weak.error?.code, 'password_too_short');

    const unknown = await client.POST('/login', { body: { email: 'nobody@example.com', password } });
    assert.equal(unknown.response.status, 401);
    assert.equal(unknown.error?.code, 'invalid_credentials');
    const noSession = await client.GET('/me');
    assert.equal(noSession.response.status, 401);

    const crossSite = await client.POST('/logout', {
      headers: { cookie: 'session_id=whatever', origin: 'https://evil.example' },
    });
    assert.equal(crossSite.response.status, 403);
    assert.equal(crossSite.error?.code, 'csrf_refused');

    const badToken = await client.POST('/verify-email', { body: { token: 'not-a-token' } });
    // Answered as JSON to a JSON post; the description also allows the page a form post gets.
    assert.equal(typeof badToken.error === 'object' ? badToken.error.code : badToken.error, 'invalid_token');
    const badLink = await client.GET('/verify-email', {
      params: { query: { token: 'nope' } },
      parseAs: 'text',
    });
    assert.equal(badLink.response.status, 400);

    const first = await client.POST('/resend-verification', { body: { email: 'someone@example.com' } });
    assert.equal(first.response.status, 202);
    const second = await client.POST('/resend-verification', { body: { email: 'someone@example.com' } });
    assert.equal(second.response.status, 429);
    assert.equal(second.error?.code, 'rate_limited');
    assert.match(second.response.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  });

  /** The Authorization header of a new session of `email`. */
  async function logIn(email: string): Promise<{ authorization: string }> {
    const login = await client.POST('/login', { body: { email, password } });
    return { authorization: `Bearer ${login.data?.access_token ?? ''}` };
  }

  /** Registers and verifies `email`, then logs in. */
  async function logInVerified(email: string): Promise<{ authorization: string }> {
    await client.POST('/register', { body: { email, password } });
    const verifyLink = linkTo(
      await service.smtp.waitForEmail((m) => m.to === email && /verify/i.test(m.subject)),
      '/verify-email',
    );
    await client.POST('/verify-email', { body: { token: verifyLink.searchParams.get('token') ?? '' } });
    return logIn(email);
  }

  test('changing the password: 200, 401, 403 invalid_current_password, 422, 429, and a form post', async () => {
    const bearer = await logInVerified('typed.changer@example.com');
    const changed = 'a changed typed passphrase';

    const anonymous = await client.POST('/me/password', {
      body: { current_password: password, new_password: changed },
    });
    assert.equal(codeOf(anonymous.error), 'not_authenticated');
    const weak = await client.POST('/me/password', {
      headers: bearer,
      body: { current_password: password, new_password: 'short' },
    });
    assert.equal(codeOf(weak.error), 'password_too_short');
    const done = await client.POST('/me/password', {
      headers: bearer,
      body: { current_password: password, new_password: changed },
    });
    assert.equal(done.response.status, 200);
    assert.equal(typeof (typeof done.data === 'object' ? done.data.message : undefined), 'string');
    const byForm = await client.POST('/me/password', {
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
      body: { current_password: changed, new_password: newPassword },
      bodySerializer: (body) => new URLSearchParams(body).toString(),
      parseAs: 'text',
    });
    assert.equal(byForm.response.status, 200);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const wrong = await client.POST('/me/password', {
        headers: bearer,
        body: { current_password: 'not the current one', new_password: changed },
      });
      assert.equal(codeOf(wrong.error), 'invalid_current_password');
    }
    const locked = await client.POST('/me/password', {
      headers: bearer,
      body: { current_password: newPassword, new_password: changed },
    });
    assert.equal(locked.response.status, 429);
    assert.equal(codeOf(locked.error), 'rate_limited');
  });

  test("choosing the account's language: 200, 401, 422", async () => {
    const bearer = await logInVerified('typed.locale@example.com');
    const chosen = await client.POST('/me/locale', { headers: bearer, body: { locale: 'de' } });
    assert.equal(chosen.response.status, 200);
    assert.equal(chosen.data?.locale, 'de');
    const anonymous = await client.POST('/me/locale', { body: { locale: 'en' } });
    assert.equal(codeOf(anonymous.error), 'not_authenticated');
    const unknown = await client.POST('/me/locale', {
      headers: bearer,
      body: { locale: 'fr' as 'en' },
    });
    assert.equal(codeOf(unknown.error), 'invalid_request');
  });

  test('listing and ending sessions: 200, 204, 401, 403 csrf_refused, 404 session_not_found, 422', async () => {
    const email = 'typed.sessions@example.com';
    const caller = await logInVerified(email);
    await logIn(email);
    await logIn(email);

    const listed = await client.GET('/me/sessions', { headers: caller });
    assert.equal(listed.data?.length, 3);
    assert.equal(listed.data?.filter((session) => session.current).length, 1);
    assert.equal((await client.HEAD('/me/sessions', { headers: caller })).response.status, 200);
    assert.equal((await client.GET('/me/sessions')).error?.code, 'not_authenticated');
    const otherId = listed.data?.find((session) => !session.current)?.id ?? '';

    const ended = await client.DELETE('/me/sessions/{id}', {
      headers: caller,
      params: { path: { id: otherId } },
    });
    assert.equal(ended.response.status, 204);
    const again = await client.DELETE('/me/sessions/{id}', {
      headers: caller,
      params: { path: { id: otherId } },
    });
    assert.equal(again.error?.code, 'session_not_found');
    const tooLong = await client.DELETE('/me/sessions/{id}', {
      headers: caller,
      params: { path: { id: 'x'.repeat(65) } },
    });
    assert.equal(tooLong.error?.code, 'invalid_request');
    const anonymous = await client.DELETE('/me/sessions/{id}', { params: { path: { id: otherId } } });
    assert.equal(anonymous.error?.code, 'not_authenticated');
    const crossSiteOne = await client.DELETE('/me/sessions/{id}', {
      headers: { cookie: 'session_id=whatever', origin: 'https://evil.example' },
      params: { path: { id: otherId } },
    });
    assert.equal(crossSiteOne.error?.code, 'csrf_refused');

    const crossSiteAll = await client.DELETE('/me/sessions', {
      headers: { cookie: 'session_id=whatever', origin: 'https://evil.example' },
    });
    assert.equal(crossSiteAll.error?.code, 'csrf_refused');
    assert.equal((await client.DELETE('/me/sessions')).error?.code, 'not_authenticated');
    const others = await client.DELETE('/me/sessions', { headers: caller });
    assert.equal(others.response.status, 204);
    assert.equal((await client.GET('/me/sessions', { headers: caller })).data?.length, 1);
  });

  test('email change: ask, the pages, confirm, cancel, and their refusals', async () => {
    const email = 'typed.mover@example.com';
    const moved = 'typed.moved@example.com';
    await client.POST('/register', { body: { email, password } });
    const verifyToken = linkTo(
      await service.smtp.waitForEmail((m) => m.to === email && /verify/i.test(m.subject)),
      '/verify-email',
    ).searchParams.get('token');
    await client.POST('/verify-email', { body: { token: verifyToken ?? '' } });
    const login = await client.POST('/login', { body: { email, password } });
    const authorization = `Bearer ${login.data?.access_token ?? ''}`;

    const anonymous = await client.POST('/me/email', {
      body: { new_email: moved, current_password: password },
    });
    assert.equal(anonymous.error?.code, 'not_authenticated');
    const wrong = await client.POST('/me/email', {
      headers: { authorization },
      body: { new_email: moved, current_password: newPassword },
    });
    assert.equal(wrong.error?.code, 'invalid_current_password');
    const invalid = await client.POST('/me/email', {
      headers: { authorization },
      body: { new_email: 'not an address', current_password: password },
    });
    assert.equal(invalid.response.status, 422);
    const crossSite = await client.POST('/me/email', {
      headers: { cookie: 'session_id=whatever', origin: 'https://evil.example' },
      body: { new_email: moved, current_password: password },
    });
    assert.equal(crossSite.error?.code, 'csrf_refused');
    const asked = await client.POST('/me/email', {
      headers: { authorization },
      body: { new_email: moved, current_password: password },
    });
    assert.equal(asked.response.status, 202);

    const confirmToken =
      linkTo(
        await service.smtp.waitForEmail((m) => m.to === moved && /confirm/i.test(m.subject)),
        '/confirm-email-change',
      ).searchParams.get('token') ?? '';
    const cancelToken =
      linkTo(
        await service.smtp.waitForEmail((m) => m.to === email && /asked to change/i.test(m.subject)),
        '/cancel-email-change',
      ).searchParams.get('token') ?? '';
    const confirmPage = await client.GET('/confirm-email-change', {
      params: { query: { token: confirmToken } },
      parseAs: 'text',
    });
    assert.equal(readHiddenField(confirmPage.data ?? '', 'token'), confirmToken);
    const cancelPage = await client.GET('/cancel-email-change', {
      params: { query: { token: cancelToken } },
      parseAs: 'text',
    });
    assert.equal(readHiddenField(cancelPage.data ?? '', 'token'), cancelToken);
    const badPage = await client.GET('/cancel-email-change', {
      params: { query: { token: 'x' } },
      parseAs: 'text',
    });
    assert.equal(badPage.response.status, 400);
    assert.equal(
      (await client.HEAD('/confirm-email-change', { params: { query: { token: 'x' } } })).response.status,
      400,
    );
    assert.equal(
      (await client.HEAD('/cancel-email-change', { params: { query: { token: cancelToken } } })).response
        .status,
      200,
    );

    const confirmed = await client.POST('/confirm-email-change', { body: { token: confirmToken } });
    assert.deepEqual(confirmed.data, { message: 'Email address changed' });
    const reused = await client.POST('/confirm-email-change', { body: { token: confirmToken } });
    assert.equal(typeof reused.error === 'object' ? reused.error.code : reused.error, 'invalid_token');
    const undoToken =
      linkTo(
        await service.smtp.waitForEmail((m) => m.to === email && /was changed/i.test(m.subject)),
        '/cancel-email-change',
      ).searchParams.get('token') ?? '';
    const restored = await client.POST('/cancel-email-change', { body: { token: undoToken } });
    assert.equal(typeof restored.data === 'object' ? restored.data.outcome : restored.data, 'restored');
    const spent = await client.POST('/cancel-email-change', { body: { token: cancelToken } });
    assert.equal(typeof spent.error === 'object' ? spent.error.code : spent.error, 'invalid_token');

    // The restored account's reset link; then a change whose new address is registered before it is confirmed.
    const resetToken =
      linkTo(
        await service.smtp.waitForEmail((m) => m.to === email && /reset your/i.test(m.subject)),
        '/reset-password',
      ).searchParams.get('token') ?? '';
    await client.POST('/reset-password', { body: { token: resetToken, new_password: password } });
    const session = await client.POST('/login', { body: { email, password } });
    const taken = 'typed.taken@example.com';
    await client.POST('/me/email', {
      headers: { authorization: `Bearer ${session.data?.access_token ?? ''}` },
      body: { new_email: taken, current_password: password },
    });
    const takenToken =
      linkTo(
        await service.smtp.waitForEmail((m) => m.to === taken && /confirm/i.test(m.subject)),
        '/confirm-email-change',
      ).searchParams.get('token') ?? '';
    await client.POST('/register', { body: { email: taken, password: newPassword } });
    const conflict = await client.POST('/confirm-email-change', { body: { token: takenToken } });
    assert.equal(typeof conflict.error === 'object' ? conflict.error.code : conflict.error, 'email_taken');
  });

  test('account deletion: delete, the restore page, restore, and their refusals', async () => {
    const email = 'typed.leaver@example.com';
    await client.POST('/register', { body: { email, password } });
    const verifyToken = linkTo(
      await service.smtp.waitForEmail((m) => m.to === email && /verify/i.test(m.subject)),
      '/verify-email',
    ).searchParams.get('token');
    await client.POST('/verify-email', { body: { token: verifyToken ?? '' } });
    const login = await client.POST('/login', { body: { email, password } });
    const authorization = `Bearer ${login.data?.access_token ?? ''}`;

    const anonymous = await client.POST('/me/delete', { body: { current_password: password } });
    assert.equal(
      typeof anonymous.error === 'object' ? anonymous.error.code : anonymous.error,
      'not_authenticated',
    );
    const wrong = await client.POST('/me/delete', {
      headers: { authorization },
      body: { current_password: newPassword },
    });
    assert.equal(
      typeof wrong.error === 'object' ? wrong.error.code : wrong.error,
      'invalid_current_password',
    );
    const missing = await client.POST('/me/delete', {
      headers: { authorization },
      body: {} as { current_password: string },
    });
    assert.equal(missing.response.status, 422);
    const deleted = await client.POST('/me/delete', {
      headers: { authorization },
      body: { current_password: password },
    });
    assert.equal(deleted.response.status, 200);

    const restoreToken =
      linkTo(
        await service.smtp.waitForEmail((m) => m.to === email && /was deleted/i.test(m.subject)),
        '/restore-account',
      ).searchParams.get('token') ?? '';
    const page = await client.GET('/restore-account', {
      params: { query: { token: restoreToken } },
      parseAs: 'text',
    });
    assert.equal(readHiddenField(page.data ?? '', 'token'), restoreToken);
    const badPage = await client.GET('/restore-account', {
      params: { query: { token: 'x' } },
      parseAs: 'text',
    });
    assert.equal(badPage.response.status, 400);
    assert.equal(
      (await client.HEAD('/restore-account', { params: { query: { token: 'x' } } })).response.status,
      400,
    );
    const restored = await client.POST('/restore-account', { body: { token: restoreToken } });
    assert.deepEqual(restored.data, { message: 'Account restored' });
    const reused = await client.POST('/restore-account', { body: { token: restoreToken } });
    assert.equal(typeof reused.error === 'object' ? reused.error.code : reused.error, 'invalid_token');
    assert.equal((await client.POST('/login', { body: { email, password } })).response.status, 200);
  });

  test('signed JWTs: mint (200, 401, 403 cross-site), and the JWKS (GET, HEAD)', async () => {
    const caller = await logInVerified('typed.minter@example.com');
    const minted = await client.POST('/jwt', { headers: caller });
    assert.equal(minted.data?.token_type, 'bearer');
    assert.equal(minted.data?.access_token.split('.').length, 3);
    const anonymous = await client.POST('/jwt');
    assert.equal(anonymous.error?.code, 'not_authenticated');
    const crossSite = await client.POST('/jwt', {
      headers: { cookie: 'session_id=whatever', origin: 'https://evil.example' },
    });
    assert.equal(crossSite.error?.code, 'csrf_refused');
    const jwks = await client.GET('/.well-known/jwks.json');
    const header = JSON.parse(
      Buffer.from(minted.data?.access_token.split('.')[0] ?? '', 'base64url').toString('utf8'),
    ) as { kid?: string };
    assert.ok(jwks.data?.keys.some((key) => key.kid === header.kid));
    assert.equal((await client.HEAD('/.well-known/jwks.json')).response.status, 200);
  });

  test('refresh tokens: login with refresh_token, /token as JSON and as a form, and its refusals', async () => {
    const email = 'typed.refresher@example.com';
    await logInVerified(email);
    const login = await client.POST('/login', { body: { email, password, refresh_token: true } });
    const refreshToken = login.data?.refresh_token ?? '';
    assert.match(refreshToken, /^[A-Za-z0-9_-]{43}$/);

    const refreshed = await client.POST('/token', {
      body: { grant_type: 'refresh_token', refresh_token: refreshToken },
    });
    assert.equal(refreshed.data?.token_type, 'bearer');
    assert.equal(refreshed.response.headers.get('cache-control'), 'no-store');
    const me = await client.GET('/me', {
      headers: { authorization: `Bearer ${refreshed.data?.access_token ?? ''}` },
    });
    assert.equal(me.data?.email, email);
    const asForm = await client.POST('/token', {
      body: { grant_type: 'refresh_token', refresh_token: refreshed.data?.refresh_token ?? '' },
      bodySerializer: (body) => new URLSearchParams(body as Record<string, string>).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(asForm.response.status, 200);

    const unsupported = await client.POST('/token', { body: { grant_type: 'password', refresh_token: 'x' } });
    assert.equal(unsupported.error?.code, 'unsupported_grant_type');
    const missing = await client.POST('/token', { body: { grant_type: 'refresh_token' } });
    assert.equal(missing.error?.code, 'invalid_request');
    const unknown = await client.POST('/token', {
      body: { grant_type: 'refresh_token', refresh_token: 'C'.repeat(43) },
    });
    assert.equal(unknown.error?.code, 'invalid_grant');
  });

  test('the admin operations, with an admin key, and their refusals', async () => {
    const { key } = await createAdminKey(service.deps.http.admin, 'typed client');
    const headers = { authorization: `Bearer ${key}` };
    const email = 'typed.admin.subject@example.com';
    await client.POST('/register', { body: { email, password } });

    const unauthenticated = await client.GET('/admin/users', {});
    assert.equal(codeOf(unauthenticated.error), 'admin_key_required');
    const refused = await client.GET('/admin/users', { headers: { authorization: 'Bearer lk_admin_nope' } });
    assert.equal(codeOf(refused.error), 'admin_key_refused');
    const found = await client.GET('/admin/users', { headers, params: { query: { email } } });
    const id = found.data?.users[0]?.id ?? '';
    assert.equal(found.data?.users[0]?.email, email);
    const listed = await client.GET('/admin/users', {
      headers,
      params: { query: { q: 'typed', limit: '1' } },
    });
    assert.equal(listed.data?.users.length, 1);
    assert.notEqual(listed.data?.next_cursor, null);
    const badCursor = await client.GET('/admin/users', { headers, params: { query: { cursor: 'x' } } });
    assert.equal(codeOf(badCursor.error), 'invalid_cursor');
    const badLimit = await client.GET('/admin/users', { headers, params: { query: { limit: '0' } } });
    assert.equal(codeOf(badLimit.error), 'invalid_request');

    const shown = await client.GET('/admin/users/{id}', { headers, params: { path: { id } } });
    assert.equal(shown.data?.is_verified, false);
    const malformed = await client.GET('/admin/users/{id}', { headers, params: { path: { id: 'nope' } } });
    assert.equal(codeOf(malformed.error), 'malformed_id');
    const unknownId = '00000000-0000-4000-8000-000000000000';
    const unknown = await client.GET('/admin/users/{id}', { headers, params: { path: { id: unknownId } } });
    assert.equal(codeOf(unknown.error), 'user_not_found');

    const path = { params: { path: { id } }, headers };
    assert.equal((await client.POST('/admin/users/{id}/resend-verification', path)).response.status, 202);
    assert.equal((await client.POST('/admin/users/{id}/password-reset', path)).response.status, 202);
    const journeyAccount = await client.GET('/admin/users', {
      headers,
      params: { query: { email: 'typed.client@example.com' } },
    });
    const verified = await client.POST('/admin/users/{id}/resend-verification', {
      headers,
      params: { path: { id: journeyAccount.data?.users[0]?.id ?? '' } },
    });
    assert.equal(codeOf(verified.error), 'already_verified');
    assert.equal((await client.POST('/admin/users/{id}/disable', path)).response.status, 204);
    assert.equal((await client.POST('/admin/users/{id}/enable', path)).response.status, 204);
    assert.equal((await client.POST('/admin/users/{id}/logout', path)).response.status, 204);
    const sessions = await client.GET('/admin/users/{id}/sessions', path);
    assert.deepEqual(sessions.data?.sessions, [], 'logged out: no session left');
    assert.equal((await client.HEAD('/admin/users/{id}/sessions', path)).response.status, 200);
    const noSession = await client.DELETE('/admin/users/{id}/sessions/{sessionId}', {
      headers,
      params: { path: { id, sessionId: 'a'.repeat(32) } },
    });
    assert.equal(codeOf(noSession.error), 'session_not_found');
    assert.equal((await client.DELETE('/admin/users/{id}', path)).response.status, 202);
    assert.equal((await client.POST('/admin/users/{id}/restore', path)).response.status, 204);
    assert.equal((await client.DELETE('/admin/users/{id}', path)).response.status, 202);

    const outbox = await client.GET('/admin/outbox', { headers, params: { query: { status: 'queued' } } });
    assert.ok(Array.isArray(outbox.data?.emails));
    const audit = await client.GET('/admin/audit', {
      headers,
      params: { query: { user_id: id, event: 'admin_delete', since: '2020-01-01T00:00:00Z' } },
    });
    assert.equal(audit.data?.events.length, 2, 'deleted, restored, deleted again');
    assert.equal((await client.HEAD('/admin/users', { headers })).response.status, 200);
    assert.equal((await client.HEAD('/admin/users/{id}', path)).response.status, 200);
    assert.equal((await client.HEAD('/admin/outbox', { headers })).response.status, 200);
    assert.equal((await client.HEAD('/admin/audit', { headers })).response.status, 200);
    const deliveries = await client.GET('/admin/webhooks/deliveries', {
      headers,
      params: { query: { status: 'pending', limit: '10' } },
    });
    assert.ok(Array.isArray(deliveries.data?.deliveries));
    assert.equal((await client.HEAD('/admin/webhooks/deliveries', { headers })).response.status, 200);

    const created = await client.POST('/admin/webhooks/endpoints', {
      headers,
      body: { url: 'https://hooks.example.com/typed', event_types: ['user.deleted'] },
    });
    assert.match(created.data?.secret ?? '', /^whsec_/);
    const endpoint = { headers, params: { path: { id: created.data?.endpoint.id ?? '' } } };
    const privateTarget = await client.POST('/admin/webhooks/endpoints', {
      headers,
      body: { url: 'http://127.0.0.1:9/hook' },
    });
    assert.equal(codeOf(privateTarget.error), 'webhook_target_private');
    const endpoints = await client.GET('/admin/webhooks/endpoints', { headers });
    assert.equal(endpoints.data?.endpoints.length, 1);
    assert.equal((await client.HEAD('/admin/webhooks/endpoints', { headers })).response.status, 200);
    assert.equal((await client.GET('/admin/webhooks/endpoints/{id}', endpoint)).data?.source, 'api');
    assert.equal((await client.HEAD('/admin/webhooks/endpoints/{id}', endpoint)).response.status, 200);
    const patched = await client.PATCH('/admin/webhooks/endpoints/{id}', {
      ...endpoint,
      body: { description: 'typed' },
    });
    assert.equal(patched.data?.description, 'typed');
    assert.equal(
      (await client.POST('/admin/webhooks/endpoints/{id}/disable', endpoint)).data?.disabled_reason,
      'operator',
    );
    assert.equal((await client.POST('/admin/webhooks/endpoints/{id}/enable', endpoint)).data?.enabled, true);
    const rotated = await client.POST('/admin/webhooks/endpoints/{id}/rotate-secret', endpoint);
    assert.notEqual(rotated.data?.secret, created.data?.secret);
    assert.notEqual(rotated.data?.endpoint.previous_secret_expires_at, null);
    assert.equal((await client.DELETE('/admin/webhooks/endpoints/{id}', endpoint)).response.status, 204);
    const missing = await client.GET('/admin/webhooks/endpoints/{id}', endpoint);
    assert.equal(codeOf(missing.error), 'webhook_endpoint_not_found');
    const retried = await client.POST('/admin/webhooks/deliveries/{id}/retry', {
      headers,
      params: { path: { id: unknownId } },
    });
    assert.equal(codeOf(retried.error), 'webhook_delivery_not_found');
  });

  test('the hosted pages: sign-up, sign-in, the account page and its forms, forgot password, sign-out', async () => {
    const email = 'typed.pages@example.com';
    const form = {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
    };
    const asForm = {
      bodySerializer: (body: object) => new URLSearchParams(body as Record<string, string>).toString(),
    };
    const page = { parseAs: 'text', redirect: 'manual' } as const;
    for (const path of ['/sign-in', '/sign-up', '/forgot-password'] as const) {
      assert.equal((await client.GET(path, page)).response.status, 200);
      assert.equal((await client.HEAD(path, page)).response.status, 200);
    }
    const anonymousAccount = await client.GET('/account', page);
    assert.equal(anonymousAccount.response.status, 303);
    assert.equal(anonymousAccount.response.headers.get('location'), '/sign-in');
    assert.equal((await client.HEAD('/account', page)).response.status, 303);

    const badSignUp = await client.POST('/sign-up', {
      ...page,
      ...asForm,
      headers: form,
      body: { email: 'nope', password },
    });
    assert.equal(badSignUp.response.status, 422);
    const signedUp = await client.POST('/sign-up', {
      ...page,
      ...asForm,
      headers: form,
      body: { email, password },
    });
    assert.equal(signedUp.response.status, 200);
    const crossSite = await client.POST('/sign-up', {
      ...page,
      ...asForm,
      headers: { ...form, 'sec-fetch-site': 'cross-site' },
      body: { email, password },
    });
    assert.equal(crossSite.response.status, 403);
    const verifyLink = linkTo(
      await service.smtp.waitForEmail((m) => m.to === email && /verify/i.test(m.subject)),
      '/verify-email',
    );
    await client.POST('/verify-email', { body: { token: verifyLink.searchParams.get('token') ?? '' } });

    const wrong = await client.POST('/sign-in', {
      ...page,
      ...asForm,
      headers: form,
      body: { email, password: 'not the password' },
    });
    assert.equal(wrong.response.status, 401);
    const missing = await client.POST('/sign-in', { ...page, ...asForm, headers: form, body: { email } });
    assert.equal(missing.response.status, 422);
    const signedIn = await client.POST('/sign-in', {
      ...page,
      ...asForm,
      headers: form,
      body: { email, password },
    });
    assert.equal(signedIn.response.status, 303);
    assert.equal(signedIn.response.headers.get('location'), '/account');
    const cookie = (signedIn.response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const signedInPage = { ...page, headers: { cookie } };
    assert.equal((await client.GET('/account', signedInPage)).response.status, 200);
    assert.equal((await client.GET('/sign-in', signedInPage)).response.status, 303);
    const withCookie = { ...page, ...asForm, headers: { ...form, cookie } };

    const other = await client.POST('/login', { body: { email, password } });
    assert.equal(other.response.status, 200);
    const sessions = await client.GET('/me/sessions', { headers: { cookie } });
    const otherId = sessions.data?.find((session) => !session.current)?.id ?? '';
    const ended = await client.POST('/account/sessions/end', {
      ...withCookie,
      body: { session_id: otherId },
    });
    assert.equal(ended.response.headers.get('location'), '/account');
    await client.POST('/login', { body: { email, password } });
    const endedOthers = await client.POST('/account/sessions/end-others', { ...withCookie, body: {} });
    assert.equal(endedOthers.response.headers.get('location'), '/account');
    assert.equal((await client.GET('/me/sessions', { headers: { cookie } })).data?.length, 1);

    const weak = await client.POST('/account/password', {
      ...withCookie,
      body: { current_password: password, new_password: 'short' },
    });
    assert.equal(weak.response.status, 422);
    const wrongCurrent = await client.POST('/account/password', {
      ...withCookie,
      body: { current_password: 'not it', new_password: newPassword },
    });
    assert.equal(wrongCurrent.response.status, 403);
    const changed = await client.POST('/account/password', {
      ...withCookie,
      body: { current_password: password, new_password: newPassword },
    });
    assert.equal(changed.response.status, 303);
    const moved = await client.POST('/account/email', {
      ...withCookie,
      body: { new_email: 'typed.pages.moved@example.com', current_password: newPassword },
    });
    assert.equal(moved.response.headers.get('location'), '/account');
    const language = await client.POST('/account/locale', { ...withCookie, body: { locale: 'en' } });
    assert.equal(language.response.headers.get('location'), '/account');
    const badEmail = await client.POST('/account/email', {
      ...withCookie,
      body: { new_email: 'nope', current_password: newPassword },
    });
    assert.equal(badEmail.response.status, 422);
    const noPassword = await client.POST('/account/delete', { ...withCookie, body: {} });
    assert.equal(noPassword.response.status, 422);

    const forgot = await client.POST('/forgot-password', {
      ...page,
      ...asForm,
      headers: form,
      body: { email },
    });
    assert.equal(forgot.response.status, 200);
    const forgotBad = await client.POST('/forgot-password', {
      ...page,
      ...asForm,
      headers: form,
      body: { email: 'nope' },
    });
    assert.equal(forgotBad.response.status, 422);

    const signedOut = await client.POST('/sign-out', {
      ...page,
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(signedOut.response.status, 303);
    assert.equal((await client.GET('/account', signedInPage)).response.status, 303);
    const deletedAnonymously = await client.POST('/account/delete', {
      ...page,
      ...asForm,
      headers: form,
      body: { current_password: newPassword },
    });
    assert.equal(deletedAnonymously.response.headers.get('location'), '/sign-in');

    const again = await client.POST('/sign-in', {
      ...page,
      ...asForm,
      headers: form,
      body: { email, password: newPassword },
    });
    const cookieAgain = (again.response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const deleted = await client.POST('/account/delete', {
      ...page,
      ...asForm,
      headers: { ...form, cookie: cookieAgain },
      body: { current_password: newPassword },
    });
    assert.equal(deleted.response.status, 200);
  });

  test('the service routes answer as described', async () => {
    assert.equal((await client.GET('/health/live')).data?.status, 'ok');
    const ready = await client.GET('/health/ready');
    assert.equal(ready.data?.status, 'ok');
    assert.deepEqual(ready.data?.checks, { database: 'ok' });
    // HEAD is answered wherever GET is, with the GET's status and headers and no body.
    assert.equal((await client.HEAD('/')).response.status, 200);
    assert.equal((await client.HEAD('/health/live')).response.status, 200);
    assert.equal((await client.HEAD('/health/ready')).response.status, 200);
    assert.equal((await client.HEAD('/me')).response.status, 401);
    const badLink = await client.HEAD('/verify-email', { params: { query: { token: 'nope' } } });
    assert.equal(badLink.response.status, 400);
    assert.equal((await client.HEAD('/reset-password')).response.status, 200);
    // Every described operation was driven at least once above.
    const operations = Object.entries(description.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const operation of operations) {
      assert.ok(
        checked.some((line) => line.startsWith(`${operation} `)),
        `${operation} was not driven`,
      );
    }
  });
});
