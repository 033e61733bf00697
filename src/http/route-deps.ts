import type { AdminContext } from '../flows/admin-context.ts';
import type { AccountContext } from '../flows/context.ts';
import type { HealthCheck, RateLimiter } from '../flows/ports.ts';
import type { AccessTokenSettings, SigningKeyRing } from '../flows/signing-keys.ts';
import type { Site } from './pages/layout.ts';
import type { MetricsDeps } from './plugins/metrics.ts';

export const rateLimitedRoutes = [
  'register',
  'verify_email',
  'resend_verification',
  'login',
  'request_password_reset',
  'reset_password',
  'token',
  'jwt',
  'admin',
] as const;
export type RateLimitedRoute = (typeof rateLimitedRoutes)[number];

/** What the HTTP layer is given; it never picks adapters itself. */
export interface HttpDeps {
  readonly account: AccountContext;
  /** The admin API's flows (admin keys, the directory of accounts, the outbox, the audit trail). */
  readonly admin: AdminContext;
  /** Per client IP and route; a missing entry means no limit (RATE_LIMIT_ENABLED=false). */
  readonly clientIpLimiters: Partial<Record<RateLimitedRoute, RateLimiter>>;
  readonly healthChecks: readonly HealthCheck[];
  readonly appBaseUrl: URL;
  readonly corsOrigins: readonly string[];
  readonly corsAllowCredentials: boolean;
  /** Secure cookies unless the service is plainly local http. */
  readonly secureCookies: boolean;
  /** SESSION_COOKIE_DOMAIN: the session cookie reaches sibling subdomains; undefined: this host only. */
  readonly sessionCookieDomain?: string;
  /** PRODUCT_NAME and BRAND_COLOR, for the hosted pages. */
  readonly site: Site;
  /** RETURN_TO_ORIGINS: where a page may send a person back to. */
  readonly returnToOrigins: readonly string[];
  readonly version: string;
  /** Keys the account pseudonyms of security log lines (deriveAccountPseudonymKey of SECRET_KEY). */
  readonly accountPseudonymKey: Uint8Array;
  /** Set: Prometheus metrics at /metrics. */
  readonly metrics?: MetricsDeps;
  /** POST /jwt and the JWKS. */
  readonly accessTokens: AccessTokenDeps;
}

/** What POST /jwt signs with and the JWKS publishes: the process's key ring, in memory. */
export interface AccessTokenDeps {
  readonly signingKeys: Pick<SigningKeyRing, 'currentSigningKey' | 'publishedKeys'>;
  readonly settings: AccessTokenSettings;
  /** JWT_JWKS_MAX_AGE_SECONDS: the JWKS answer's Cache-Control max-age. */
  readonly jwksMaxAgeSeconds: number;
}

/** What the service routes (/, /health/*) need: also served by the worker, which has no account context. */
export type ServiceRouteDeps = Pick<HttpDeps, 'healthChecks' | 'version'>;
