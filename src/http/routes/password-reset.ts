import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { checkPasswordResetToken, requestPasswordReset, resetPassword } from '../../flows/password-reset.ts';
import { answerForm, isFormPost } from '../form-reply.ts';
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
  ErrorResponse,
  MessageResponse,
  PasswordField,
  TokenField,
  readEmailAddress,
} from '../schemas.ts';

const resetRequestedMessage = 'If the email exists, a reset link has been sent';

export function registerPasswordResetRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/request-password-reset',
    {
      schema: {
        summary: 'Email a password reset link (same answer for every address)',
        tags: ['password reset'],
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: Type.Object({ email: EmailField }),
        response: { 202: MessageResponse, 422: ErrorResponse, 429: ErrorResponse },
      },
      preHandler: limitByClientIp(deps.clientIpLimiters.request_password_reset, 'request_password_reset'),
    },
    async (request, reply) => {
      const work = async (): Promise<void> => {
        await requestPasswordReset(deps.account, readEmailAddress(request.body.email).key);
        await waitForUniformAnswerTime(reply);
      };
      if (isFormPost(request)) return answerForm(reply, work, renderResetRequestedPage, 202);
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
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) }),
        produces: ['text/html'],
      },
      preHandler: limitByClientIp(deps.clientIpLimiters.reset_password, 'reset_password'),
    },
    async (request, reply) => {
      const token = request.query.token;
      reply.type('text/html; charset=utf-8');
      if (token === undefined || token === '') return reply.send(renderRequestPasswordResetPage());
      const usable = await checkPasswordResetToken(deps.account, token);
      return reply
        .status(usable ? 200 : 400)
        .send(renderResetPasswordPage(token, usable, deps.account.passwordPolicy.minimumLength));
    },
  );

  app.post(
    '/reset-password',
    {
      schema: {
        summary: 'Set a new password with a reset token; every session of the account ends',
        tags: ['password reset'],
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: Type.Object({ token: TokenField, new_password: PasswordField }),
        response: { 200: MessageResponse, 400: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
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
      if (isFormPost(request)) return answerForm(reply, work, renderPasswordResetDonePage);
      await work();
      return { message: 'Password reset successfully' };
    },
  );
}
