import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { checkPasswordResetToken, requestPasswordReset, resetPassword } from '../../flows/password-reset.ts';
import { errorCodes } from '../../flows/errors.ts';
import { answerForm, isFormPost } from '../form-reply.ts';
import { describeRefusal } from '../pages/refusals.ts';
import {
  renderPasswordResetDonePage,
  renderRequestPasswordResetPage,
  renderResetPasswordPage,
  renderResetRequestedPage,
} from '../pages/reset-password.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import { waitForUniformAnswerTime } from '../plugins/uniform-timing.ts';
import type { HttpDeps } from '../route-deps.ts';
import { withSecurityLog } from '../security-log.ts';
import {
  EmailField,
  MessageResponse,
  PasswordField,
  ReturnToField,
  TokenField,
  readEmailAddress,
} from '../schemas.ts';
import { resolveReturnTo } from '../../security/return-to.ts';
import * as answers from '../answers.ts';

const resetRequestedMessage = 'If the email exists, a reset link has been sent';

export function registerPasswordResetRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/request-password-reset',
    {
      schema: {
        summary: 'Email a password reset link (same answer for every address)',
        tags: ['password reset'],
        operationId: 'requestPasswordReset',
        ...answers.publicFormPost,
        body: Type.Object({ email: EmailField }),
        response: {
          ...answers.post,
          202: answers.jsonOrPage(
            'The same answer for every address (JSON, or a page for a form post)',
            MessageResponse,
          ),
          422: answers.error(
            '`invalid_request`: a missing or invalid address (JSON, or a page for a form post)',
            { html: true },
          ),
          429: answers.rateLimited,
        },
      },
      preHandler: limitByClientIp(deps.clientIpLimiters.request_password_reset, 'request_password_reset'),
    },
    async (request, reply) => {
      const work = async (): Promise<void> => {
        await requestPasswordReset(deps.account, readEmailAddress(request.body.email).key);
        await waitForUniformAnswerTime(reply);
      };
      if (isFormPost(request)) return answerForm(reply, deps.site, work, renderResetRequestedPage, 202);
      await work();
      return reply.status(202).send({ message: resetRequestedMessage });
    },
  );

  app.get(
    '/reset-password',
    {
      schema: {
        summary: 'The page an emailed reset link opens: a form for the new password (GET changes nothing)',
        tags: ['pages'],
        operationId: 'showResetPasswordPage',
        security: answers.noSecurity,
        querystring: Type.Object({
          token: Type.Optional(Type.String({ maxLength: 512 })),
          return_to: ReturnToField,
        }),
        response: {
          ...answers.service,
          200: answers.page('A form for the new password; without a token, a form to request a reset link'),
          400: answers.page(
            'The link is invalid, expired or already used (with a form to request a new one)',
          ),
          422: answers.invalidQuery,
          429: answers.rateLimited,
        },
      },
      preHandler: limitByClientIp(deps.clientIpLimiters.reset_password, 'reset_password'),
    },
    async (request, reply) => {
      const token = request.query.token;
      reply.type('text/html; charset=utf-8');
      if (token === undefined || token === '') return reply.send(renderRequestPasswordResetPage(deps.site));
      const usable = await checkPasswordResetToken(deps.account, token);
      return reply
        .status(usable ? 200 : 400)
        .send(
          renderResetPasswordPage(
            deps.site,
            token,
            usable,
            deps.account.passwordPolicy.minimumLength,
            resolveReturnTo(request.query.return_to, deps.returnToOrigins),
          ),
        );
    },
  );

  app.post(
    '/reset-password',
    {
      schema: {
        summary: 'Set a new password with a reset token; every session of the account ends',
        tags: ['password reset'],
        operationId: 'resetPassword',
        ...answers.publicFormPost,
        body: Type.Object({ token: TokenField, new_password: PasswordField, return_to: ReturnToField }),
        response: {
          ...answers.linkTokenPost,
          200: answers.jsonOrPage(
            'The password is changed (JSON, or a page for a form post)',
            MessageResponse,
          ),
          422: answers.error(
            `${answers.invalidBody.description}, or a password rule: \`password_too_short\`, \`password_too_long\`, \`password_contains_email\`, \`password_too_common\` (JSON, or a page for a form post)`,
            { html: true },
          ),
          429: answers.error(
            "`rate_limited`: the client's budget for this route, or this reset link's, is spent (JSON, or a page for a form post)",
            { html: true, retryAfter: true },
          ),
        },
      },
      preHandler: limitByClientIp(deps.clientIpLimiters.reset_password, 'reset_password'),
    },
    async (request, reply) => {
      const work = async (): Promise<void> => {
        await withSecurityLog(
          request,
          'password_reset',
          {},
          () => resetPassword(deps.account, request.body.token, request.body.new_password),
          (userId) => ({ userId }),
        );
      };
      if (isFormPost(request)) {
        const returnTo = resolveReturnTo(request.body.return_to, deps.returnToOrigins);
        const minimumLength = deps.account.passwordPolicy.minimumLength;
        return answerForm(
          reply,
          deps.site,
          work,
          (site) => renderPasswordResetDonePage(site, returnTo),
          200,
          // A password rule: the same form again, the words next to the field, the link still usable.
          (site, error) =>
            errorCodes[error.code].status === 422 && error.code !== 'invalid_request'
              ? renderResetPasswordPage(
                  site,
                  request.body.token,
                  true,
                  minimumLength,
                  returnTo,
                  describeRefusal(error, () => 'new_password', { minimumPasswordLength: minimumLength }).text,
                )
              : undefined,
        );
      }
      await work();
      return { message: 'Password reset successfully' };
    },
  );
}
