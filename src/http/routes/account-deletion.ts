import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { checkAccountRestoreToken, deleteAccount, restoreAccount } from '../../flows/account-deletion.ts';
import { answerForm, isFormPost } from '../form-reply.ts';
import { registerLinkPage } from '../link-page.ts';
import {
  renderAccountDeletedPage,
  renderAccountRestoredAfterDeletionPage,
  renderRestoreAccountPage,
} from '../pages/account-deletion.ts';
import { limitByClientIp } from '../plugins/rate-limit.ts';
import type { HttpDeps } from '../route-deps.ts';
import { requireSession } from '../session-auth.ts';
import { createSessionCookie } from '../session-cookie.ts';
import { MessageResponse, PasswordField, TokenField } from '../schemas.ts';
import * as answers from '../answers.ts';

export function registerAccountDeletionRoutes(root: FastifyInstance, deps: HttpDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  // The restore link's page and post share the verification link's per-IP budget.
  const limitLinks = limitByClientIp(deps.clientIpLimiters.verify_email, 'verify_email');
  const sessionCookie = createSessionCookie(deps);

  app.post(
    '/me/delete',
    {
      schema: {
        summary:
          'Delete the account: every session ends at once; a restore link is emailed for the grace period',
        tags: ['accounts'],
        operationId: 'deleteAccount',
        security: answers.sessionSecurity,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: Type.Object({ current_password: PasswordField }),
        response: {
          ...answers.post,
          200: answers.jsonOrPage(
            'Deleted (JSON), or the "Account deleted" page (form post); the session cookie is cleared',
            MessageResponse,
          ),
          401: answers.error('`not_authenticated`: no token, or no live session behind it'),
          403: answers.error(
            '`invalid_current_password`: the current password is wrong (JSON, or a page for a form post); or `csrf_refused`',
            { html: true },
          ),
          422: answers.invalidBody,
          429: answers.error(
            "`rate_limited`: the account's login budget is spent (JSON, or a page for a form post)",
            { html: true, retryAfter: true },
          ),
        },
      },
    },
    async (request, reply) => {
      const session = await requireSession(deps.account, request);
      const work = async (): Promise<void> => {
        await deleteAccount(deps.account, session.userId, request.body.current_password);
        sessionCookie.clear(reply);
      };
      if (isFormPost(request)) return answerForm(reply, deps.site, work, renderAccountDeletedPage);
      await work();
      return { message: 'Account deleted; a restore link has been emailed' };
    },
  );

  registerLinkPage(app, {
    path: '/restore-account',
    operationId: 'showRestoreAccountPage',
    summary: 'The page an emailed restore link opens (a button; GET changes nothing)',
    preHandler: limitLinks,
    isUsable: (token) => checkAccountRestoreToken(deps.account, token),
    render: (token, usable) => renderRestoreAccountPage(deps.site, token, usable),
  });

  app.post(
    '/restore-account',
    {
      schema: {
        summary: 'Bring a deleted account back as it was (JSON, or the restore page form)',
        tags: ['accounts'],
        operationId: 'restoreAccount',
        ...answers.publicFormPost,
        body: Type.Object({ token: TokenField }),
        response: {
          ...answers.linkTokenPost,
          200: answers.jsonOrPage(
            'Restored (JSON), or the "Account restored" page (form post)',
            MessageResponse,
          ),
        },
      },
      preHandler: limitLinks,
    },
    async (request, reply) => {
      const work = async (): Promise<void> => {
        await restoreAccount(deps.account, request.body.token);
      };
      if (isFormPost(request))
        return answerForm(reply, deps.site, work, renderAccountRestoredAfterDeletionPage);
      await work();
      return { message: 'Account restored' };
    },
  );
}
