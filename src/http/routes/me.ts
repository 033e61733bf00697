import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { changePassword } from '../../flows/password-change.ts';
import { answerForm, isFormPost } from '../form-reply.ts';
import { renderMessagePage } from '../pages/layout.ts';
import type { HttpDeps } from '../route-deps.ts';
import { withSecurityLog } from '../security-log.ts';
import { MessageResponse, PasswordField } from '../schemas.ts';
import * as answers from '../answers.ts';
import { requireSession } from './login.ts';

const passwordChangedMessage = 'Password changed: every other session has been ended';

/** The signed-in person's own account: routes that need a live session. */
export function registerAccountRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/me/password',
    {
      schema: {
        summary: 'Change the password: needs the current one; every other session ends',
        tags: ['account'],
        operationId: 'changePassword',
        security: answers.sessionSecurity,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: Type.Object({ current_password: PasswordField, new_password: PasswordField }),
        response: {
          ...answers.post,
          200: answers.jsonOrPage(
            'Changed: every other session of the account has ended (this one goes on), open reset and verification links are void, and the owner is emailed',
            MessageResponse,
          ),
          401: answers.error('`not_authenticated`: no token, or no live session behind it', { html: true }),
          403: answers.error('`invalid_current_password`: the current password is wrong; or `csrf_refused`', {
            html: true,
          }),
          422: answers.error(
            '`invalid_request` (a missing or mistyped field), or the new password breaks a rule: `password_too_short`, `password_too_long`, `password_contains_email`, `password_too_common`',
            { html: true },
          ),
          429: answers.error(
            "`rate_limited`: the account's login budget is spent (wrong current passwords count as failed logins)",
            { retryAfter: true, html: true },
          ),
        },
      },
    },
    async (request, reply) => {
      const work = async (): Promise<void> => {
        const session = await requireSession(deps, request);
        await withSecurityLog(
          request,
          'password_change',
          { userId: session.userId },
          () =>
            changePassword(deps.account, session, request.body.current_password, request.body.new_password),
          () => ({ userId: session.userId }),
        );
      };
      if (isFormPost(request)) {
        return answerForm(reply, work, () => renderMessagePage('Password changed', passwordChangedMessage));
      }
      await work();
      return { message: passwordChangedMessage };
    },
  );
}
