import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { registerAccount } from '../../flows/registration.ts';
import { resendEmailVerification } from '../../flows/email-verification.ts';
import { requireJsonBody } from '../plugins/json-only.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import { waitForUniformAnswerTime } from '../plugins/uniform-timing.ts';
import type { HttpDeps } from '../route-deps.ts';
import { EmailField, MessageResponse, PasswordField, readEmailAddress } from '../schemas.ts';
import * as answers from '../answers.ts';
import { chooseLocale } from '../../security/locale.ts';

export function registerRegistrationRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/register',
    {
      schema: {
        summary: 'Create an account; a verification email follows',
        description:
          'The answer is the same whether or not the address is registered; an existing address gets an email with a reset link instead.',
        tags: ['accounts'],
        operationId: 'registerAccount',
        security: answers.noSecurity,
        body: Type.Object({
          email: EmailField,
          password: PasswordField,
          locale: Type.Optional(
            Type.String({
              maxLength: 35,
              description:
                "The language of the account's emails and pages (`en`, `de`); unsupported or absent: Accept-Language, else DEFAULT_LOCALE",
            }),
          ),
        }),
        response: {
          ...answers.post,
          200: MessageResponse,
          415: answers.jsonOnly,
          422: {
            ...answers.invalidBody,
            description: `${answers.invalidBody.description}, or a password rule: \`password_too_short\`, \`password_too_long\`, \`password_contains_email\`, \`password_too_common\``,
          },
          429: answers.rateLimited,
        },
      },
      preValidation: requireJsonBody,
      preHandler: limitByClientIp(deps.clientIpLimiters.register, 'register'),
    },
    async (request) => {
      const locale = chooseLocale(
        { explicit: request.body.locale, acceptLanguage: request.headers['accept-language'] },
        deps.site.defaultLocale,
      );
      await registerAccount(deps.account, readEmailAddress(request.body.email), request.body.password, {
        locale,
      });
      return { message: 'User registered successfully' };
    },
  );

  app.post(
    '/resend-verification',
    {
      schema: {
        summary: 'Send a fresh verification link to an unverified account',
        tags: ['accounts'],
        operationId: 'resendEmailVerification',
        security: answers.noSecurity,
        body: Type.Object({ email: EmailField }),
        response: {
          ...answers.post,
          202: MessageResponse,
          415: answers.jsonOnly,
          422: answers.invalidBody,
          429: answers.rateLimited,
        },
      },
      preValidation: requireJsonBody,
      preHandler: limitByClientIp(deps.clientIpLimiters.resend_verification, 'resend_verification'),
    },
    async (request, reply) => {
      await resendEmailVerification(deps.account, readEmailAddress(request.body.email).key);
      await waitForUniformAnswerTime(reply);
      return reply
        .status(202)
        .send({ message: 'If the address has an unverified account, a new verification link has been sent' });
    },
  );
}
