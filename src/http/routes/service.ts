import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServiceRouteDeps } from '../route-deps.ts';
import * as answers from '../answers.ts';
import { outageRetryAfterSeconds } from '../plugins/errors.ts';

const healthCheckTimeoutMilliseconds = 2_000;

const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('unavailable')])),
  },
  { description: 'Every dependency answers' },
);

export function registerServiceRoutes(root: FastifyInstance, deps: ServiceRouteDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/',
    {
      schema: {
        summary: 'Service name and version',
        tags: ['service'],
        operationId: 'describeService',
        security: answers.noSecurity,
        response: {
          ...answers.service,
          200: Type.Object({ message: Type.String(), version: Type.String() }),
        },
      },
    },
    async () => ({ message: 'Latchkey Authentication API', version: deps.version }),
  );

  app.get(
    '/health/live',
    {
      schema: {
        summary: 'The process is up',
        tags: ['service'],
        operationId: 'checkLiveness',
        security: answers.noSecurity,
        response: { ...answers.service, 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        summary: 'The database and Redis answer',
        tags: ['service'],
        operationId: 'checkReadiness',
        security: answers.noSecurity,
        response: {
          ...answers.service,
          200: Readiness,
          503: {
            ...Readiness,
            description: 'A dependency does not answer',
            headers: answers.retryAfterHeader,
          },
        },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        deps.healthChecks.map(async (check) => {
          try {
            await Promise.race([
              check.check(),
              new Promise((_, reject) =>
                setTimeout(() => reject(new Error('timeout')), healthCheckTimeoutMilliseconds).unref(),
              ),
            ]);
            return [check.name, 'ok'] as const;
          } catch {
            return [check.name, 'unavailable'] as const;
          }
        }),
      );
      const ready = results.every(([, status]) => status === 'ok');
      if (!ready) reply.header('retry-after', String(outageRetryAfterSeconds));
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results) });
    },
  );
}
