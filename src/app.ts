import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  answerClientError,
  connectionsCheckingIntervalMilliseconds,
  requestTimeoutMilliseconds,
} from './http/client-errors.ts';
import { registerAuditOrigin } from './http/plugins/audit-origin.ts';
import { registerCrossSiteProtection } from './http/plugins/cross-site.ts';
import { registerErrorHandling } from './http/plugins/errors.ts';
import { closeConnectionsOnShutdown } from './http/plugins/graceful-close.ts';
import { registerMetrics } from './http/plugins/metrics.ts';
import type { HttpDeps } from './http/route-deps.ts';
import { registerAccountDeletionRoutes } from './http/routes/account-deletion.ts';
import { registerAdminRoutes } from './http/routes/admin.ts';
import { registerAdminWebhookRoutes } from './http/routes/admin-webhooks.ts';
import { registerAccountEmailRoutes } from './http/routes/account-email.ts';
import { registerEmailVerificationRoutes } from './http/routes/email-verification.ts';
import { registerJwtRoutes } from './http/routes/jwt.ts';
import { registerLoginRoutes } from './http/routes/login.ts';
import { registerAccountRoutes } from './http/routes/me.ts';
import { registerPageRoutes, registerPageLanguage } from './http/routes/pages.ts';
import { registerPasswordResetRoutes } from './http/routes/password-reset.ts';
import { registerRegistrationRoutes } from './http/routes/registration.ts';
import { registerServiceRoutes } from './http/routes/service.ts';
import { registerTokenRoutes } from './http/routes/token.ts';
import { deferredChildLogger } from './http/request-logger.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { sessionCookieName } from './http/session-cookie.ts';
import { registerAccountPseudonyms } from './http/security-log.ts';

export interface AppOptions {
  readonly logger: Logger;
  readonly trustProxy: boolean | number | string;
}

/** Request bodies are tiny JSON or form posts; anything larger is refused before parsing. */
const bodyLimitBytes = 16 * 1024;

/** Builds the HTTP app from ready dependencies: plugins first, then routes. Does no I/O. */
export async function buildApp(deps: HttpDeps, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    trustProxy: trustProxyFunction(options.trustProxy),
    bodyLimit: bodyLimitBytes,
    // Per-request lines would double the log volume under load; security events are logged by the routes.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: deferredChildLogger,
    // Answered by closeConnectionsOnShutdown instead, in the service's error shape.
    return503OnClosing: false,
    requestTimeout: requestTimeoutMilliseconds,
    http: {
      headersTimeout: requestTimeoutMilliseconds,
      connectionsCheckingInterval: connectionsCheckingIntervalMilliseconds,
    },
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  registerErrorHandling(app);
  registerAccountPseudonyms(app, deps.accountPseudonymKey);
  registerAuditOrigin(app);
  closeConnectionsOnShutdown(app);
  // JSON and HTML forms only: any other body type is a clear 415, never parsed as something else.
  app.removeContentTypeParser('text/plain');
  await registerSecurityHeaders(app, {
    https: deps.appBaseUrl.protocol === 'https:',
    returnToOrigins: deps.returnToOrigins,
  });
  registerPageLanguage(app, deps.site.defaultLocale, { secureCookies: deps.secureCookies });
  await registerCrossSiteProtection(app, {
    appOrigin: deps.appBaseUrl.origin,
    corsOrigins: deps.corsOrigins,
    corsAllowCredentials: deps.corsAllowCredentials,
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: bodyLimitBytes });
  await app.register(swagger, {
    // fastify answers HEAD wherever it answers GET; the description says so too (operationId `<get's>-head`).
    exposeHeadRoutes: true,
    // Shared schemas keep their $id as their name in #/components/schemas.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
    openapi: {
      info: {
        title: 'Latchkey',
        description: 'Email + password authentication service',
        version: deps.version,
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [{ url: deps.appBaseUrl.origin, description: 'This deployment (APP_BASE_URL)' }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: sessionCookieName },
          adminKey: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An admin key (`lk_admin_…`, from `npm run admin -- key create`); never a session token',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Before the routes: it times each route registered after it (the docs routes above are not timed).
  if (deps.metrics !== undefined) await registerMetrics(app, deps.metrics);
  registerServiceRoutes(app, deps);
  registerRegistrationRoutes(app, deps);
  registerEmailVerificationRoutes(app, deps);
  registerLoginRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerPasswordResetRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerAccountEmailRoutes(app, deps);
  registerAccountDeletionRoutes(app, deps);
  registerJwtRoutes(app, deps);
  registerAdminRoutes(app, deps);
  registerAdminWebhookRoutes(app, deps);
  registerPageRoutes(app, deps);
  return app;
}

/**
 * A hop count trusts that many proxies in front of the service, as Express does (fastify refuses hop counts,
 * since it cannot tell a proxy from a client: use it only when the service is reachable through the proxies
 * alone); a string is a list of proxy addresses/CIDRs.
 */
function trustProxyFunction(
  setting: boolean | number | string,
): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address: string, hop: number) => hop < setting;
  return setting;
}
