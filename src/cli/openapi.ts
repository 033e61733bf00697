// `npm run openapi`: prints the service's OpenAPI description (what /openapi.json serves), built without a
// database, Redis or a listening socket: routes only describe themselves until a request arrives.
import { randomBytes } from 'node:crypto';
import type { AdminContext } from '../flows/admin-context.ts';
import type { AccountContext } from '../flows/context.ts';
import type { HttpDeps } from '../http/route-deps.ts';
import { buildApp } from '../app.ts';
import { serviceVersion } from '../composition/http-deps.ts';
import { createLogger } from '../logger.ts';

/** Registering the routes reads no account data; a request would, and none is served here. */
function unavailableWhileDescribing<T extends object>(): T {
  return new Proxy({} as T, {
    get(): never {
      throw new Error('the OpenAPI description is built without serving requests');
    },
  });
}

/** The description a deployment at `appBaseUrl` serves at /openapi.json. */
export async function describeApi(appBaseUrl = new URL('http://localhost:8000')): Promise<object> {
  const app = await buildApp(
    {
      account: unavailableWhileDescribing<AccountContext>(),
      admin: unavailableWhileDescribing<AdminContext>(),
      clientIpLimiters: {},
      healthChecks: [],
      appBaseUrl,
      corsOrigins: [],
      corsAllowCredentials: false,
      secureCookies: false,
      version: serviceVersion,
      accountPseudonymKey: randomBytes(32),
      accessTokens: {
        signingKeys: new Proxy({} as HttpDeps['accessTokens']['signingKeys'], {
          get(): never {
            throw new Error('the OpenAPI description is built without serving requests');
          },
        }),
        settings: { issuer: appBaseUrl.origin, audience: appBaseUrl.origin, lifetimeSeconds: 300 },
        jwksMaxAgeSeconds: 300,
      },
      site: { productName: 'Latchkey', brandColor: '#2f5bd3', defaultLocale: 'en' },
      returnToOrigins: [],
    },
    { logger: createLogger({ level: 'silent' }), trustProxy: false },
  );
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}

if (import.meta.main) {
  const baseUrl = process.argv[2];
  const description = await describeApi(baseUrl === undefined ? undefined : new URL(baseUrl));
  process.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
}
