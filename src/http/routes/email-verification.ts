import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { checkEmailVerificationToken, verifyEmailAddress } from '../../flows/email-verification.ts';
import { answerForm, isFormPost } from '../form-reply.ts';
import { renderEmailVerifiedPage, renderVerifyEmailPage } from '../pages/verify-email.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import type { HttpDeps } from '../route-deps.ts';
import { MessageResponse, ReturnToField, TokenField } from '../schemas.ts';
import { resolveReturnTo } from '../../security/return-to.ts';
import * as answers from '../answers.ts';

export function registerEmailVerificationRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const limit = limitByClientIp(deps.clientIpLimiters.verify_email, 'verify_email');

  app.get(
    '/verify-email',
    {
      schema: {
        summary: 'The page an emailed verification link opens (a confirm button; GET changes nothing)',
        tags: ['pages'],
        operationId: 'showVerifyEmailPage',
        security: answers.noSecurity,
        querystring: Type.Object({
          token: Type.Optional(Type.String({ maxLength: 512 })),
          return_to: ReturnToField,
        }),
        response: {
          ...answers.service,
          200: answers.page('The confirm page: a button that posts the token'),
          400: answers.page('The link is invalid, expired or already used'),
          422: answers.invalidQuery,
          429: answers.rateLimited,
        },
      },
      preHandler: limit,
    },
    async (request, reply) => {
      const token = request.query.token ?? '';
      const usable = await checkEmailVerificationToken(deps.account, token);
      return reply
        .status(usable ? 200 : 400)
        .type('text/html; charset=utf-8')
        .send(
          renderVerifyEmailPage(
            deps.site,
            token,
            usable,
            resolveReturnTo(request.query.return_to, deps.returnToOrigins),
          ),
        );
    },
  );

  app.post(
    '/verify-email',
    {
      schema: {
        summary: 'Consume a verification token (JSON, or the confirm page form)',
        tags: ['accounts'],
        operationId: 'verifyEmailAddress',
        ...answers.publicFormPost,
        body: Type.Object({ token: TokenField, return_to: ReturnToField }),
        response: {
          ...answers.linkTokenPost,
          200: answers.jsonOrPage(
            'Verified (JSON), or the "Email verified" page (form post)',
            MessageResponse,
          ),
        },
      },
      preHandler: limit,
    },
    async (request, reply) => {
      if (isFormPost(request)) {
        return answerForm(
          reply,
          deps.site,
          () => verifyEmailAddress(deps.account, request.body.token),
          (site) =>
            renderEmailVerifiedPage(site, resolveReturnTo(request.body.return_to, deps.returnToOrigins)),
        );
      }
      await verifyEmailAddress(deps.account, request.body.token);
      return { message: 'Email verified successfully' };
    },
  );
}
