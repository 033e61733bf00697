import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import * as answers from './answers.ts';

/**
 * `?lang=` of a page: its language (an emailed link names the account's). A value that names no supported language
 * is ignored, never refused: a language is a wish, not a contract.
 */
export const PageLanguageField = Type.Optional(
  Type.String({
    description:
      'The language of the page (`en`, `de`); remembered for the next pages in the `page_lang` cookie. Any other value is ignored',
  }),
);

/** A page an emailed link opens: a button that posts the token; GET changes nothing (mail scanners open links). */
export function registerLinkPage(
  root: FastifyInstance,
  page: {
    readonly path: string;
    readonly operationId: string;
    readonly summary: string;
    readonly preHandler: preHandlerAsyncHookHandler;
    isUsable(token: string): Promise<boolean>;
    render(token: string, usable: boolean): string;
  },
): void {
  root.withTypeProvider<TypeBoxTypeProvider>().get(
    page.path,
    {
      schema: {
        summary: page.summary,
        tags: ['pages'],
        operationId: page.operationId,
        security: answers.noSecurity,
        querystring: Type.Object({
          token: Type.Optional(Type.String({ maxLength: 512 })),
          lang: PageLanguageField,
        }),
        response: {
          ...answers.service,
          200: answers.page('A button that posts the token'),
          400: answers.page('The link is invalid, expired or already used'),
          422: answers.invalidQuery,
          429: answers.rateLimited,
        },
      },
      preHandler: page.preHandler,
    },
    async (request, reply) => {
      const token = request.query.token ?? '';
      const usable = await page.isUsable(token);
      return reply
        .status(usable ? 200 : 400)
        .type('text/html; charset=utf-8')
        .send(page.render(token, usable));
    },
  );
}
