import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deleteAccount } from '../../flows/account-deletion.ts';
import { requestEmailChange } from '../../flows/email-change.ts';
import { FlowError, errorCodes, type ErrorCode } from '../../flows/errors.ts';
import { logIn } from '../../flows/login.ts';
import type { Session } from '../../flows/model.ts';
import type { RateLimiter } from '../../flows/ports.ts';
import { changePassword } from '../../flows/password-change.ts';
import { requestPasswordReset } from '../../flows/password-reset.ts';
import { registerAccount } from '../../flows/registration.ts';
import {
  endOtherSessions,
  endSession,
  findSessionByToken,
  invalidateSession,
  listSessions,
} from '../../flows/sessions.ts';
import { parseEmailAddress, type EmailAddress } from '../../security/email-address.ts';
import { resolveReturnTo } from '../../security/return-to.ts';
import { renderAccountPage, type AccountFormErrors } from '../pages/account.ts';
import { renderAccountDeletedPage } from '../pages/account-deletion.ts';
import { renderForgotPasswordPage, renderResetRequestedPage } from '../pages/forgot-password.ts';
import { renderStylesheet } from '../pages/layout.ts';
import { renderErrorPage } from '../pages/reset-password.ts';
import {
  adoptAccountLocale,
  message,
  pageLanguage,
  runInPageLocale,
  switchPageLocale,
  type MessageKey,
  type PageAddress,
} from '../pages/messages.ts';
import { changeAccountLocale, findAccountLocale } from '../../flows/account-locale.ts';
import { chooseLocale, localeOfTag, readLocaleChoice, type Locale } from '../../security/locale.ts';
import { describeRefusal } from '../pages/refusals.ts';
import { renderSignInPage } from '../pages/sign-in.ts';
import { renderSignUpPage, renderSignUpSentPage } from '../pages/sign-up.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import { requireSameOriginForm } from '../plugins/same-origin-form.ts';
import { waitForUniformAnswerTime } from '../plugins/uniform-timing.ts';
import type { HttpDeps } from '../route-deps.ts';
import { logSecurityEvent, withSecurityLog } from '../security-log.ts';
import { createSessionCookie, readSessionToken, sessionCookieHeader } from '../session-cookie.ts';
import { ReturnToField } from '../schemas.ts';
import { PageLanguageField as LangField } from '../link-page.ts';
import * as answers from '../answers.ts';

/** Form fields arrive as typed; bounded so no input is a 5xx, judged by the flows like the JSON API's. */
const FormText = Type.Optional(Type.String({ maxLength: 4096 }));

const accountNotices = {
  session_ended: 'account.notice.sessionEnded',
  others_ended: 'account.notice.othersEnded',
  password_changed: 'account.notice.passwordChanged',
  email_change_sent: 'account.notice.emailChangeSent',
  locale_changed: 'account.notice.localeChanged',
} as const satisfies Record<string, MessageKey>;
type AccountNotice = keyof typeof accountNotices;

const signInNotices = {
  signed_out: 'signIn.signedOut',
  password_changed: 'signIn.passwordChanged',
} as const satisfies Record<string, MessageKey>;
type SignInNotice = keyof typeof signInNotices;

/**
 * A one-time notice ("password changed") rides from a form's redirect to the next page in this cookie, which that
 * page reads and clears: a reload or a shared address never shows it again. Its value is only ever one of the
 * names above (anything else is ignored), so it carries nothing to sign or hide.
 */
const noticeCookieName = 'page_notice';
const noticeLifetimeSeconds = 60;

/** The language picked with the switcher (or an emailed link's `?lang`) for this browser; no identifier. */
const languageCookieName = 'page_lang';
const languageCookieLifetimeSeconds = 365 * 24 * 60 * 60;

/** Read before the cookie plugin's parsing hook runs: only this one name, only a supported locale. */
function readLanguageCookie(header: string | undefined): Locale | undefined {
  const match = /(?:^|;)\s*page_lang=([^;]*)/.exec(header ?? '');
  return readLocaleChoice(match?.[1]?.trim());
}

/**
 * Where the language switcher of the page answering `request` points: a GET page again with its query; a form's
 * answer, the page the form is on, with the link token and return address it carried (the account page's forms:
 * the account page).
 */
function addressOfPage(request: FastifyRequest): PageAddress {
  const queryStart = request.url.indexOf('?');
  const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? '' : request.url.slice(queryStart + 1));
  if (request.method === 'GET' || request.method === 'HEAD') return { path, query };
  const body = request.body as Record<string, unknown> | null | undefined;
  const carried = new URLSearchParams();
  for (const name of ['token', 'return_to']) {
    const value = body?.[name];
    if (typeof value === 'string' && value !== '') carried.set(name, value);
  }
  const accountPage = path.startsWith('/account') || path.startsWith('/me');
  return { path: accountPage ? '/account' : path, query: carried };
}

const pageAnswer = (description: string) => answers.page(description);
const formRefused = (description: string) =>
  answers.page(`${description}; the form again, refilled, the problem next to its field`);

/**
 * The language of every page: `?lang=`, else the language this browser picked (the switcher's cookie), else
 * Accept-Language, else DEFAULT_LOCALE (the account page puts the signed-in account's own before the last two).
 * A page opened with a valid `?lang=` remembers it in the cookie, so the next pages stay in that language. Every
 * HTML answer, the emailed links' pages and refusals included, says its language, the same as `<html lang>`, and
 * that it varies with Accept-Language and Cookie. JSON answers stay English: their codes are the contract.
 */
export function registerPageLanguage(
  root: FastifyInstance,
  defaultLocale: Locale,
  options: { readonly secureCookies?: boolean } = {},
): void {
  root.addHook('onRequest', (request, _reply, done) => {
    const query = request.query as Record<string, unknown> | undefined;
    const explicit = query?.['lang'];
    const picked = readLanguageCookie(request.headers.cookie);
    const locale = chooseLocale(
      { explicit, picked, acceptLanguage: request.headers['accept-language'] },
      defaultLocale,
    );
    const chosen =
      (typeof explicit === 'string' && localeOfTag(explicit) !== undefined) || picked !== undefined;
    runInPageLocale(locale, done, { chosen, address: () => addressOfPage(request) });
  });
  root.addHook('onSend', async (request, reply) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-language', pageLanguage());
      const vary = String(reply.getHeader('vary') ?? '');
      const missing = ['Accept-Language', 'Cookie'].filter(
        (name) => !new RegExp(`\\b${name}\\b`, 'i').test(vary),
      );
      if (missing.length > 0) reply.header('vary', [vary, ...missing].filter(Boolean).join(', '));
      const query = request.query as Record<string, unknown> | undefined;
      const explicit = typeof query?.['lang'] === 'string' ? localeOfTag(query['lang']) : undefined;
      if (
        request.method === 'GET' &&
        explicit !== undefined &&
        explicit !== readLanguageCookie(request.headers.cookie)
      ) {
        reply.setCookie(languageCookieName, explicit, {
          path: '/',
          sameSite: 'lax',
          httpOnly: true,
          secure: options.secureCookies ?? false,
          maxAge: languageCookieLifetimeSeconds,
        });
      }
    }
  });
}

/**
 * The hosted pages: sign-in, sign-up, forgot password and the account page. Every form posts to a route here that
 * calls the same flow as the JSON API; a refusal comes back as the form, refilled (never a password), with the
 * problem next to its field.
 */
export function registerPageRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const sessionCookie = createSessionCookie(deps);
  // Read per request: the description of the routes is built without an account context.
  const passwordMinimum = (): number => deps.account.passwordPolicy.minimumLength;
  const stylesheet = renderStylesheet(deps.site);
  const sameOriginForm = requireSameOriginForm(deps.appBaseUrl.origin, deps.site);
  const returnTo = (raw: string | undefined): string | null => resolveReturnTo(raw, deps.returnToOrigins);
  const sendPage = (reply: FastifyReply, status: number, html: string): FastifyReply =>
    reply.status(status).type('text/html; charset=utf-8').send(html);
  const refusalOf = (error: FlowError, fieldOf: (code: ErrorCode) => string) =>
    describeRefusal(error, fieldOf, { minimumPasswordLength: passwordMinimum() });
  const statusOf = (error: FlowError): number => {
    if (error.retryAfterSeconds !== undefined) return 429;
    return errorCodes[error.code].status;
  };
  /**
   * A spent per-IP budget, in minutes, with Retry-After: the form again (refilled, never a password) with the
   * words above it, so the person keeps their place; a page of its own where there is no form to show.
   */
  const limitPage = (
    limiter: RateLimiter | undefined,
    route: string,
    formAgain?: (body: Record<string, unknown>, text: string) => string,
  ) =>
    limitByClientIp(limiter, route, (refused) => {
      const seconds = Number(refused.getHeader('retry-after') ?? 60);
      const minutes = Math.max(1, Math.ceil(seconds / 60));
      const text = message('error.rate_limited', { minutes });
      const body = (refused.request.body ?? {}) as Record<string, unknown>;
      return sendPage(
        refused,
        429,
        formAgain === undefined ? renderErrorPage(deps.site, text) : formAgain(body, text),
      );
    });
  const typedText = (body: Record<string, unknown>, name: string): string | undefined =>
    typeof body[name] === 'string' ? body[name] : undefined;
  /** A one-time notice for the next page (see noticeCookieName). */
  const setNotice = (reply: FastifyReply, notice: AccountNotice | SignInNotice): void => {
    reply.setCookie(noticeCookieName, notice, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.secureCookies,
      maxAge: noticeLifetimeSeconds,
    });
  };
  /** The notice left for this page, if it is one of `notices`; cleared, so it shows once. */
  const takeNotice = <Name extends string>(
    request: FastifyRequest,
    reply: FastifyReply,
    notices: Readonly<Record<Name, MessageKey>>,
  ): string | undefined => {
    const left = request.cookies[noticeCookieName];
    if (left === undefined) return undefined;
    reply.clearCookie(noticeCookieName, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.secureCookies,
    });
    return Object.hasOwn(notices, left) ? message(notices[left as Name]) : undefined;
  };
  const currentSession = async (request: FastifyRequest): Promise<Session | null> => {
    const token = readSessionToken(request);
    return token === undefined ? null : findSessionByToken(deps.account, token);
  };

  app.get('/assets/latchkey.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stylesheet),
  );

  app.get(
    '/sign-in',
    {
      schema: {
        summary: 'The sign-in page (a signed-in visitor is sent on at once)',
        tags: ['pages'],
        operationId: 'showSignInPage',
        security: answers.noSecurity,
        querystring: Type.Object({ return_to: ReturnToField, lang: LangField }),
        response: {
          ...answers.service,
          200: pageAnswer('The sign-in form'),
          303: answers.seeOther('Already signed in: on to `return_to` (when listed) or the account page'),
          422: answers.error('`invalid_request`: the query string is invalid'),
        },
      },
    },
    async (request, reply) => {
      const onward = returnTo(request.query.return_to);
      if ((await currentSession(request)) !== null) return reply.redirect(onward ?? '/account', 303);
      const notice = takeNotice(request, reply, signInNotices);
      return sendPage(reply, 200, renderSignInPage(deps.site, { returnTo: onward, notice }));
    },
  );

  app.post(
    '/sign-in',
    {
      schema: {
        summary: 'Sign in from the page: the session cookie, then on to `return_to` or the account page',
        tags: ['pages'],
        operationId: 'signIn',
        security: answers.noSecurity,
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object({ email: FormText, password: FormText, return_to: ReturnToField }),
        response: {
          ...answers.post,
          303: answers.seeOther('Signed in: on to `return_to` (when listed) or the account page'),
          401: formRefused('Unknown address or wrong password'),
          403: answers.error(
            '`csrf_refused` (a page): the form was not posted from this origin (login CSRF); or the form again: address not verified (a fresh link is emailed), account deactivated',
            { html: true },
          ),
          422: formRefused('A missing or invalid field'),
          429: {
            ...formRefused("The client's or the account's budget is spent"),
            headers: answers.retryAfterHeader,
          },
        },
      },
      preHandler: [
        sameOriginForm,
        limitPage(deps.clientIpLimiters.login, 'login', (body, text) =>
          renderSignInPage(deps.site, {
            email: typedText(body, 'email'),
            returnTo: returnTo(typedText(body, 'return_to')),
            formError: text,
          }),
        ),
      ],
    },
    async (request, reply) => {
      const onward = returnTo(request.body.return_to);
      const typed = request.body.email ?? '';
      const password = request.body.password ?? '';
      const again = (
        status: number,
        refusal: { errors?: { email?: string; password?: string }; formError?: string },
      ): FastifyReply =>
        sendPage(reply, status, renderSignInPage(deps.site, { email: typed, returnTo: onward, ...refusal }));
      const email = readTypedAddress(typed);
      if (typeof email === 'string' || password === '') {
        return again(422, {
          errors: {
            ...(typeof email === 'string' && { email }),
            ...(password === '' && { password: message('error.passwordMissing') }),
          },
        });
      }
      try {
        const result = await withSecurityLog(
          request,
          'login',
          { emailKey: email.key },
          () =>
            logIn(deps.account, email, password, {
              ip: request.ip,
              userAgent: request.headers['user-agent'] ?? null,
            }),
          (session) => ({ userId: session.user.id }),
        );
        sessionCookie.set(reply, result.token, result.expiresInSeconds);
        return reply.redirect(onward ?? '/account', 303);
      } catch (error) {
        if (!(error instanceof FlowError)) throw error;
        if (error.retryAfterSeconds !== undefined)
          reply.header('retry-after', String(error.retryAfterSeconds));
        // Wrong address or password, unverified, switched off, a spent budget: about the two fields together,
        // so said once above the form, not pinned to one field.
        return again(statusOf(error), { formError: refusalOf(error, () => 'password').text });
      }
    },
  );

  app.get(
    '/sign-up',
    {
      schema: {
        summary: 'The sign-up page',
        tags: ['pages'],
        operationId: 'showSignUpPage',
        security: answers.noSecurity,
        querystring: Type.Object({ return_to: ReturnToField, lang: LangField }),
        response: {
          ...answers.service,
          200: pageAnswer('The sign-up form'),
          422: answers.error('`invalid_request`: the query string is invalid'),
        },
      },
    },
    async (request, reply) =>
      sendPage(
        reply,
        200,
        renderSignUpPage(deps.site, {
          returnTo: returnTo(request.query.return_to),
          minimumPasswordLength: passwordMinimum(),
        }),
      ),
  );

  app.post(
    '/sign-up',
    {
      schema: {
        summary: 'Create an account from the page (the same page whether or not the address is registered)',
        tags: ['pages'],
        operationId: 'signUp',
        security: answers.noSecurity,
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object({
          email: FormText,
          password: FormText,
          locale: FormText,
          return_to: ReturnToField,
        }),
        response: {
          ...answers.post,
          200: pageAnswer('"Check your email": the same for a new and a registered address'),
          403: answers.error('`csrf_refused` (a page): the form was not posted from this origin', {
            html: true,
          }),
          422: formRefused('A missing or invalid address, or a password rule'),
          429: {
            ...formRefused("This client's budget for the route is spent: how many minutes to wait"),
            headers: answers.retryAfterHeader,
          },
        },
      },
      preHandler: [
        sameOriginForm,
        limitPage(deps.clientIpLimiters.register, 'register', (body, text) =>
          renderSignUpPage(deps.site, {
            email: typedText(body, 'email'),
            returnTo: returnTo(typedText(body, 'return_to')),
            minimumPasswordLength: passwordMinimum(),
            formError: text,
          }),
        ),
      ],
    },
    async (request, reply) => {
      const onward = returnTo(request.body.return_to);
      const typed = request.body.email ?? '';
      const password = request.body.password ?? '';
      // The form posts the language it was shown in: the answer and the account keep it.
      const locale = chooseLocale(
        { explicit: request.body.locale, acceptLanguage: request.headers['accept-language'] },
        deps.site.defaultLocale,
      );
      switchPageLocale(locale);
      const again = (errors: { email?: string; password?: string }): FastifyReply =>
        sendPage(
          reply,
          422,
          renderSignUpPage(deps.site, {
            email: typed,
            returnTo: onward,
            minimumPasswordLength: passwordMinimum(),
            errors,
          }),
        );
      const email = readTypedAddress(typed);
      if (typeof email === 'string' || password === '') {
        return again({
          ...(typeof email === 'string' && { email }),
          ...(password === '' && { password: message('error.newPasswordMissing') }),
        });
      }
      try {
        await registerAccount(deps.account, email, password, {
          locale,
          ...(onward === null ? {} : { returnTo: onward }),
        });
      } catch (error) {
        if (!(error instanceof FlowError) || errorCodes[error.code].status !== 422) throw error;
        return again({ password: refusalOf(error, () => 'password').text });
      }
      return sendPage(reply, 200, renderSignUpSentPage(deps.site, email.address, onward));
    },
  );

  app.get(
    '/forgot-password',
    {
      schema: {
        summary: 'The forgot-password page: a form that asks for a reset link',
        tags: ['pages'],
        operationId: 'showForgotPasswordPage',
        security: answers.noSecurity,
        querystring: Type.Object({ lang: LangField }),
        response: {
          ...answers.service,
          200: pageAnswer('The address form'),
          422: answers.error('`invalid_request`: the query string is invalid'),
        },
      },
    },
    async (_request, reply) => sendPage(reply, 200, renderForgotPasswordPage(deps.site)),
  );

  app.post(
    '/forgot-password',
    {
      schema: {
        summary: 'Ask for a reset link from the page (the same page for every address)',
        tags: ['pages'],
        operationId: 'forgotPassword',
        security: answers.noSecurity,
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object({ email: FormText }),
        response: {
          ...answers.post,
          200: pageAnswer('"Check your email": the same for every address'),
          422: formRefused('A missing or invalid address'),
          429: {
            ...formRefused("This client's budget for the route is spent: how many minutes to wait"),
            headers: answers.retryAfterHeader,
          },
        },
      },
      preHandler: limitPage(
        deps.clientIpLimiters.request_password_reset,
        'request_password_reset',
        (body, text) =>
          renderForgotPasswordPage(deps.site, { email: typedText(body, 'email'), formError: text }),
      ),
    },
    async (request, reply) => {
      const typed = request.body.email ?? '';
      const email = readTypedAddress(typed);
      if (typeof email === 'string')
        return sendPage(reply, 422, renderForgotPasswordPage(deps.site, { email: typed, error: email }));
      await requestPasswordReset(deps.account, email.key);
      await waitForUniformAnswerTime(reply);
      return sendPage(reply, 200, renderResetRequestedPage(deps.site, email.address));
    },
  );

  const showAccount = async (
    reply: FastifyReply,
    session: Session,
    status: number,
    extra: { notice?: string; errors?: AccountFormErrors } = {},
  ): Promise<FastifyReply> => {
    const sessions = await listSessions(deps.account, session);
    return sendPage(
      reply,
      status,
      renderAccountPage(deps.site, {
        email: session.email,
        isVerified: session.isVerified,
        sessions,
        minimumPasswordLength: passwordMinimum(),
        now: deps.account.clock.now(),
        locale: await findAccountLocale(deps.account, session.userId, null),
        ...extra,
      }),
    );
  };
  const toSignIn = (reply: FastifyReply): FastifyReply => reply.redirect('/sign-in', 303);
  const toAccount = (reply: FastifyReply, notice: AccountNotice): FastifyReply => {
    setNotice(reply, notice);
    return reply.redirect('/account', 303);
  };
  /** The account's own language for its pages, unless this browser picked one (see adoptAccountLocale). */
  const adoptLocaleOf = async (session: Session): Promise<void> => {
    const own = await findAccountLocale(deps.account, session.userId, null);
    if (own !== null) adoptAccountLocale(own);
  };

  app.get(
    '/account',
    {
      schema: {
        summary: 'The account page: address, sessions, and the forms that change the account',
        tags: ['pages'],
        operationId: 'showAccountPage',
        security: answers.sessionSecurity,
        querystring: Type.Object({ lang: LangField }),
        response: {
          ...answers.service,
          200: pageAnswer('The account page'),
          303: answers.seeOther('Not signed in: to the sign-in page'),
          422: answers.error('`invalid_request`: the query string is invalid'),
        },
      },
    },
    async (request, reply) => {
      const session = await currentSession(request);
      if (session === null) return toSignIn(reply);
      await adoptLocaleOf(session);
      const notice = takeNotice(request, reply, accountNotices);
      return showAccount(reply, session, 200, notice === undefined ? {} : { notice });
    },
  );

  const accountPost = (
    path: string,
    operationId: string,
    summary: string,
    body: ReturnType<typeof Type.Object>,
    refusals: string,
  ) =>
    ({
      path,
      schema: {
        summary,
        tags: ['pages'],
        operationId,
        security: answers.sessionSecurity,
        consumes: ['application/x-www-form-urlencoded'],
        body,
        response: {
          ...answers.post,
          200: pageAnswer('Done (a page)'),
          303: answers.seeOther(
            'Done: back to the account page with a notice; not signed in: to the sign-in page',
          ),
          403: answers.error(`\`csrf_refused\`; or ${refusals}`, { html: true }),
          404: formRefused('The session is not one of this account'),
          422: formRefused('A missing or invalid field, or a password rule'),
          429: { ...formRefused("The account's login budget is spent"), headers: answers.retryAfterHeader },
        },
      },
    }) as const;

  const passwordPost = accountPost(
    '/account/password',
    'changePasswordFromPage',
    'Change the password from the account page (the flow of POST /me/password)',
    Type.Object({ current_password: FormText, new_password: FormText }),
    'the account page again: the current password is wrong',
  );
  app.post(passwordPost.path, { schema: passwordPost.schema }, async (request, reply) => {
    const session = await currentSession(request);
    if (session === null) return toSignIn(reply);
    await adoptLocaleOf(session);
    const body = request.body as { current_password?: string; new_password?: string };
    const current = body.current_password ?? '';
    const next = body.new_password ?? '';
    if (current === '' || next === '') {
      return showAccount(reply, session, 422, {
        errors: {
          password: {
            ...(current === '' && { current_password: message('error.currentPasswordMissing') }),
            ...(next === '' && { new_password: message('error.newPasswordMissing') }),
          },
        },
      });
    }
    try {
      await withSecurityLog(
        request,
        'password_change',
        { userId: session.userId },
        () => changePassword(deps.account, session, current, next),
        () => ({ userId: session.userId }),
      );
    } catch (error) {
      if (!(error instanceof FlowError) || error.code === 'not_authenticated') throw error;
      const refusal = refusalOf(error, (code) =>
        code === 'invalid_current_password' || code === 'rate_limited' ? 'current_password' : 'new_password',
      );
      return showAccount(reply, session, statusOf(error), {
        errors: { password: { [refusal.field]: refusal.text } },
      });
    }
    return toAccount(reply, 'password_changed');
  });

  const emailPost = accountPost(
    '/account/email',
    'requestEmailChangeFromPage',
    'Ask to move the account to another address from the account page (the flow of POST /me/email)',
    Type.Object({ new_email: FormText, current_password: FormText }),
    'the account page again: the current password is wrong',
  );
  app.post(emailPost.path, { schema: emailPost.schema }, async (request, reply) => {
    const session = await currentSession(request);
    if (session === null) return toSignIn(reply);
    await adoptLocaleOf(session);
    const body = request.body as { new_email?: string; current_password?: string };
    const typed = body.new_email ?? '';
    const current = body.current_password ?? '';
    const email = readTypedAddress(typed);
    if (typeof email === 'string' || current === '') {
      return showAccount(reply, session, 422, {
        errors: {
          email: {
            value: typed,
            ...(typeof email === 'string' && { new_email: email }),
            ...(current === '' && { current_password: message('error.currentPasswordMissing') }),
          },
        },
      });
    }
    try {
      await requestEmailChange(deps.account, session.userId, email, current);
    } catch (error) {
      if (!(error instanceof FlowError) || error.code === 'not_authenticated') throw error;
      const refusal = refusalOf(error, () => 'current_password');
      return showAccount(reply, session, statusOf(error), {
        errors: { email: { value: typed, [refusal.field]: refusal.text } },
      });
    }
    await waitForUniformAnswerTime(reply);
    return toAccount(reply, 'email_change_sent');
  });

  const deletePost = accountPost(
    '/account/delete',
    'deleteAccountFromPage',
    'Delete the account from the account page (the flow of POST /me/delete); the cookie is cleared',
    Type.Object({ current_password: FormText }),
    'the account page again: the current password is wrong',
  );
  app.post(deletePost.path, { schema: deletePost.schema }, async (request, reply) => {
    const session = await currentSession(request);
    if (session === null) return toSignIn(reply);
    await adoptLocaleOf(session);
    const current = (request.body as { current_password?: string }).current_password ?? '';
    if (current === '') {
      return showAccount(reply, session, 422, {
        errors: { deletion: { current_password: message('error.currentPasswordMissing') } },
      });
    }
    try {
      await deleteAccount(deps.account, session.userId, current);
    } catch (error) {
      if (!(error instanceof FlowError) || error.code === 'not_authenticated') throw error;
      const refusal = refusalOf(error, () => 'current_password');
      return showAccount(reply, session, statusOf(error), {
        errors: { deletion: { [refusal.field]: refusal.text } },
      });
    }
    sessionCookie.clear(reply);
    return sendPage(reply, 200, renderAccountDeletedPage(deps.site));
  });

  const localePost = accountPost(
    '/account/locale',
    'changeAccountLocaleFromPage',
    "Choose the account's language from the account page (the flow of POST /me/locale): its pages and emails",
    Type.Object({ locale: FormText }),
    'no other refusal',
  );
  app.post(localePost.path, { schema: localePost.schema }, async (request, reply) => {
    const session = await currentSession(request);
    if (session === null) return toSignIn(reply);
    await adoptLocaleOf(session);
    const chosen = readLocaleChoice((request.body as { locale?: string }).locale);
    if (chosen === undefined) {
      return showAccount(reply, session, 422, { errors: { locale: message('error.localeInvalid') } });
    }
    await changeAccountLocale(deps.account, session.userId, chosen);
    // This browser follows the choice too: a language picked earlier with the switcher would hide it.
    reply.setCookie(languageCookieName, chosen, {
      path: '/',
      sameSite: 'lax',
      httpOnly: true,
      secure: deps.secureCookies,
      maxAge: languageCookieLifetimeSeconds,
    });
    switchPageLocale(chosen);
    return toAccount(reply, 'locale_changed');
  });

  const endPost = accountPost(
    '/account/sessions/end',
    'endSessionFromPage',
    'Sign out one session of the account from the account page (the flow of DELETE /me/sessions/{id})',
    Type.Object({ session_id: Type.Optional(Type.String({ maxLength: 64 })) }),
    'no other refusal',
  );
  app.post(endPost.path, { schema: endPost.schema }, async (request, reply) => {
    const session = await currentSession(request);
    if (session === null) return toSignIn(reply);
    try {
      await endSession(deps.account, session, (request.body as { session_id?: string }).session_id ?? '');
    } catch (error) {
      if (!(error instanceof FlowError) || error.code !== 'session_not_found') throw error;
      // Already ended (a second click, another tab): the list shows what is left.
    }
    return toAccount(reply, 'session_ended');
  });

  const endOthersPost = accountPost(
    '/account/sessions/end-others',
    'endOtherSessionsFromPage',
    'Sign out everywhere else from the account page (the flow of DELETE /me/sessions)',
    Type.Object({}),
    'no other refusal',
  );
  app.post(endOthersPost.path, { schema: endOthersPost.schema }, async (request, reply) => {
    const session = await currentSession(request);
    if (session === null) return toSignIn(reply);
    await endOtherSessions(deps.account, session);
    return toAccount(reply, 'others_ended');
  });

  app.post(
    '/sign-out',
    {
      schema: {
        summary:
          'Sign out from the page: this session ends, the cookie is cleared (the flow of POST /logout)',
        tags: ['pages'],
        operationId: 'signOut',
        security: answers.sessionSecurity,
        response: {
          ...answers.post,
          303: answers.seeOther('Signed out: to the sign-in page', sessionCookieHeader),
        },
      },
    },
    async (request, reply) => {
      const session = await currentSession(request);
      if (session !== null) {
        const { auditRecorded } = await invalidateSession(deps.account, session);
        // The session has ended; only its audit row is missing (PostgreSQL down): this line stands in for it,
        // as for POST /logout.
        if (!auditRecorded)
          logSecurityEvent(request, 'logout', { outcome: 'audit_unavailable', userId: session.userId });
      }
      sessionCookie.clear(reply);
      setNotice(reply, 'signed_out');
      return reply.redirect('/sign-in', 303);
    },
  );
}

/** The address as typed, parsed by the one address rule of every route; or the words for what is wrong. */
function readTypedAddress(typed: string): EmailAddress | string {
  if (typed.trim() === '') return message('error.emailMissing');
  return parseEmailAddress(typed) ?? message('error.emailInvalid');
}
