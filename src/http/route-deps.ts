import type { AccountContext } from '../flows/context.ts';
import type { HealthCheck, RateLimiter } from '../flows/ports.ts';
import type { Site } from './pages/layout.ts';
import type { MetricsDeps } from './plugins/metrics.ts';

export const rateLimitedRoutes = [
  'register',
  'verify_email',
  'resend_verification',
  'login',
  'request_password_reset',
  'reset_password',
] as const;
export type RateLimitedRoute = (typeof rateLimitedRoutes)[number];

/** What the HTTP layer is given; it never picks adapters itself. */
export interface HttpDeps {
  readonly account: AccountContext;
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
}

/** What the service routes (/, /health/*) need: also served by the worker, which has no account context. */
export type ServiceRouteDeps = Pick<HttpDeps, 'healthChecks' | 'version'>;
