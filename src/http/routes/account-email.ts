import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import {
  cancelEmailChange,
  checkEmailChangeCancelToken,
  checkEmailChangeConfirmToken,
  confirmEmailChange,
  requestEmailChange,
} from '../../flows/email-change.ts';
import { answerForm, isFormPost } from '../form-reply.ts';
import { registerLinkPage } from '../link-page.ts';
import {
  renderAccountRestoredPage,
  renderCancelEmailChangePage,
  renderConfirmEmailChangePage,
  renderEmailChangedPage,
  renderEmailChangeVoidedPage,
} from '../pages/email-change.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import { waitForUniformAnswerTime } from '../plugins/uniform-timing.ts';
import type { HttpDeps } from '../route-deps.ts';
import { requireSession } from '../session-auth.ts';
import { EmailField, MessageResponse, PasswordField, TokenField, readEmailAddress } from '../schemas.ts';
import * as answers from '../answers.ts';

const changeRequestedMessage =
  'If the new address can be used, a confirmation link has been sent to it; your current address has been told';

const tokenPostAnswers = {
  ...answers.linkTokenPost,
  409: answers.error(
    '`email_taken`: the address the account would move to has been registered by another account meanwhile (JSON, or a page for a form post)',
    { html: true },
  ),
};

export function registerAccountEmailRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  // The links' pages and posts share the verification link's per-IP budget.
  const limitLinks = limitByClientIp(deps.clientIpLimiters.verify_email, 'verify_email');

  app.post(
    '/me/email',
    {
      schema: {
        summary:
          'Ask to move the account to another address (same answer whether it is free, taken or the current one)',
        tags: ['accounts'],
        operationId: 'requestEmailChange',
        security: answers.sessionSecurity,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: Type.Object({ new_email: EmailField, current_password: PasswordField }),
        response: {
          ...answers.post,
          202: Type.Object(MessageResponse.properties, {
            description:
              'The same answer for every new address: a free one gets a confirm link, a taken one gets its owner a notice, the old address gets a notice with a cancel link',
          }),
          401: answers.error('`not_authenticated`: no token, or no live session behind it'),
          403: answers.error('`invalid_current_password`: the current password is wrong; or `csrf_refused`'),
          422: answers.invalidBody,
          429: answers.error(
            "`rate_limited`: the account's login budget is spent (wrong current passwords count as failed logins)",
            { retryAfter: true },
          ),
        },
      },
    },
    async (request, reply) => {
      const session = await requireSession(deps.account, request);
      await requestEmailChange(
        deps.account,
        session.userId,
        readEmailAddress(request.body.new_email),
        request.body.current_password,
      );
      await waitForUniformAnswerTime(reply);
      return reply.status(202).send({ message: changeRequestedMessage });
    },
  );

  registerLinkPage(app, {
    path: '/confirm-email-change',
    operationId: 'showConfirmEmailChangePage',
    summary: 'The page an emailed confirm link opens (a confirm button; GET changes nothing)',
    preHandler: limitLinks,
    isUsable: (token) => checkEmailChangeConfirmToken(deps.account, token),
    render: (token, usable) => renderConfirmEmailChangePage(deps.site, token, usable),
  });

  app.post(
    '/confirm-email-change',
    {
      schema: {
        summary:
          'Move the account to the confirmed address; every session ends (JSON, or the confirm page form)',
        tags: ['accounts'],
        operationId: 'confirmEmailChange',
        ...answers.publicFormPost,
        body: Type.Object({ token: TokenField }),
        response: {
          ...tokenPostAnswers,
          200: answers.jsonOrPage(
            'The address is changed (JSON), or the "Email address changed" page (form post)',
            MessageResponse,
          ),
        },
      },
      preHandler: limitLinks,
    },
    async (request, reply) => {
      const work = async (): Promise<void> => {
        await confirmEmailChange(deps.account, request.body.token);
      };
      if (isFormPost(request)) return answerForm(reply, deps.site, work, renderEmailChangedPage);
      await work();
      return { message: 'Email address changed' };
    },
  );

  registerLinkPage(app, {
    path: '/cancel-email-change',
    operationId: 'showCancelEmailChangePage',
    summary: 'The page an emailed cancel link opens (a button; GET changes nothing)',
    preHandler: limitLinks,
    isUsable: (token) => checkEmailChangeCancelToken(deps.account, token),
    render: (token, usable) => renderCancelEmailChangePage(deps.site, token, usable),
  });

  app.post(
    '/cancel-email-change',
    {
      schema: {
        summary:
          'Void a pending email change, or undo a confirmed one (old address back, sessions ended, password removed, reset link sent)',
        tags: ['accounts'],
        operationId: 'cancelEmailChange',
        ...answers.publicFormPost,
        body: Type.Object({ token: TokenField }),
        response: {
          ...tokenPostAnswers,
          200: answers.jsonOrPage(
            '`outcome` says what happened: `voided` (the change was pending) or `restored` (JSON), or a page (form post)',
            Type.Object({
              message: Type.String(),
              outcome: Type.Union([Type.Literal('voided'), Type.Literal('restored')]),
            }),
          ),
        },
      },
      preHandler: limitLinks,
    },
    async (request, reply) => {
      if (isFormPost(request)) {
        let restored = false;
        return answerForm(
          reply,
          deps.site,
          async () => {
            restored = (await cancelEmailChange(deps.account, request.body.token)).outcome === 'restored';
          },
          (site) => (restored ? renderAccountRestoredPage(site) : renderEmailChangeVoidedPage(site)),
        );
      }
      const { outcome } = await cancelEmailChange(deps.account, request.body.token);
      return {
        message:
          outcome === 'restored'
            ? 'The old address is back; every session ended and a reset link was sent to it'
            : 'The email change was stopped',
        outcome,
      };
    },
  );
}
