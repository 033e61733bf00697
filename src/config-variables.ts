// What Latchkey reads from the environment: every variable once, with its type, default, bounds, meaning and
// group. src/config.ts parses with it; `npm run config:docs` writes .env.example and docs/configuration.md from
// it. Reads nothing itself.
import {
  defaultPasswordMinimumLength,
  lowestPasswordMinimumLength,
  passwordMaximumLength,
} from './security/password-policy.ts';
import { isBudgetName, type Budget, type BudgetName } from './security/rate-limit-budgets.ts';
import { isLocale, supportedLocales, type Locale } from './security/locale.ts';

/** How mail leaves the process: implicit TLS (465), STARTTLS required (587), or plain for local relays. */
export type SmtpSecurity = 'tls' | 'starttls' | 'none';

/** One environment variable: how it is parsed, what it defaults to, and how it is documented. */
export interface ConfigVariable<T> {
  readonly group: ConfigGroup;
  /** One line: what it does (.env.example and docs/configuration.md). */
  readonly doc: string;
  /** More for docs/configuration.md only. */
  readonly details?: string;
  /** The default as it would be written in the environment; absent when unset means something else. */
  readonly defaultValue?: string;
  /** What unset means when there is no literal default. */
  readonly defaultNote?: string;
  /** The value .env.example shows when there is no literal default. */
  readonly example?: string;
  /** The accepted values, as documented. */
  readonly accepts: string;
  /** Read only when this other variable is set (SMTP_* need SMTP_HOST). */
  readonly readOnlyWith?: string;
  /** The value when unset or invalid. */
  readonly fallback: T;
  /** Parses a set (trimmed, non-empty) value; reports problems through `report` and returns a stand-in. */
  parse(raw: string, name: string, report: (problem: string) => void): T;
}

interface Documentation {
  readonly group: ConfigGroup;
  readonly doc: string;
  readonly details?: string;
  readonly example?: string;
  readonly readOnlyWith?: string;
}

function integer(
  options: Documentation & { default: number; min: number; max: number },
): ConfigVariable<number> {
  return {
    ...options,
    defaultValue: String(options.default),
    accepts: `${options.min}–${options.max}`,
    fallback: options.default,
    parse: (raw, name, report) => parseInteger(raw, name, report, options) ?? options.default,
  };
}

function optionalInteger(
  options: Documentation & { defaultNote: string; min: number; max: number },
): ConfigVariable<number | undefined> {
  return {
    ...options,
    accepts: `${options.min}–${options.max}`,
    fallback: undefined,
    parse: (raw, name, report) => parseInteger(raw, name, report, options),
  };
}

function parseInteger(
  raw: string,
  name: string,
  report: (problem: string) => void,
  bounds: { min: number; max: number },
): number | undefined {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    report(`${name} must be an integer from ${bounds.min} to ${bounds.max} (got "${raw}")`);
    return undefined;
  }
  return value;
}

const trueWords = ['1', 'true', 'yes', 'on'];
const falseWords = ['0', 'false', 'no', 'off'];

function flag(options: Documentation & { default: boolean }): ConfigVariable<boolean> {
  return {
    ...options,
    defaultValue: String(options.default),
    accepts: '`true`/`false`',
    fallback: options.default,
    parse(raw, name, report) {
      const lowered = raw.toLowerCase();
      if (trueWords.includes(lowered)) return true;
      if (falseWords.includes(lowered)) return false;
      report(`${name} must be true or false (got "${lowered}")`);
      return options.default;
    },
  };
}

function text(
  options: Documentation & {
    default: string;
    accepts?: string;
    check?: (value: string) => string | undefined;
  },
): ConfigVariable<string> {
  return {
    ...options,
    defaultValue: options.default,
    accepts: options.accepts ?? 'text',
    fallback: options.default,
    parse(raw, _name, report) {
      const problem = options.check?.(raw);
      if (problem !== undefined) report(problem);
      return raw;
    },
  };
}

function optionalText(
  options: Documentation & { defaultNote: string; accepts?: string },
): ConfigVariable<string | undefined> {
  return { ...options, accepts: options.accepts ?? 'text', fallback: undefined, parse: (raw) => raw };
}

function url(
  options: Documentation & { defaultNote: string; protocols: readonly string[] },
): ConfigVariable<string | undefined> {
  return {
    ...options,
    accepts: options.protocols.map((protocol) => `\`${protocol}//\``).join(', '),
    fallback: undefined,
    parse(raw, name, report) {
      checkUrl(raw, name, options.protocols, report);
      return raw;
    },
  };
}

function checkUrl(
  raw: string,
  name: string,
  protocols: readonly string[],
  report: (problem: string) => void,
): URL | undefined {
  try {
    const parsed = new URL(raw);
    if (!protocols.includes(parsed.protocol))
      report(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
    return parsed;
  } catch {
    report(`${name} is not a valid URL`);
    return undefined;
  }
}

function custom<T>(
  options: Documentation & {
    defaultValue?: string;
    defaultNote?: string;
    accepts: string;
    fallback: T;
    parse: ConfigVariable<T>['parse'];
  },
): ConfigVariable<T> {
  return options;
}

/** The groups of the result (`config.http`, `config.email` …), in the order docs/configuration.md shows them. */
export const configGroups = {
  service: 'Service',
  http: 'HTTP',
  sessions: 'Sessions',
  jwt: 'Signed JWTs',
  passwords: 'Passwords',
  database: 'Database',
  cluster: 'Several processes',
  redis: 'Redis',
  email: 'Email',
  housekeeping: 'Clean-up',
  worker: 'Worker process',
  metrics: 'Metrics',
  rateLimit: 'Rate limits',
  logging: 'Logging',
  pages: 'Hosted pages',
  webhooks: 'Webhooks',
} as const;
export type ConfigGroup = keyof typeof configGroups;

const smtpSecurityAliases: Readonly<Record<string, SmtpSecurity>> = {
  tls: 'tls',
  true: 'tls',
  ssl: 'tls',
  starttls: 'starttls',
  none: 'none',
  false: 'none',
  plain: 'none',
};
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const proxyAddressPattern = /^(?:[0-9.]+|[0-9a-f:]+)(?:\/\d{1,3})?$|^(?:loopback|linklocal|uniquelocal)$/i;
const ratesPattern = /^([a-z_.]+)=(\d+)\/(\d+)$/;

/** One `host:port` of REDIS_CLUSTER_NODES or REDIS_SENTINELS. */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

function parseNodeAddresses(
  raw: string,
  name: string,
  report: (problem: string) => void,
): readonly RedisNodeAddress[] {
  const addresses: RedisNodeAddress[] = [];
  for (const entry of splitList(raw)) {
    // The last colon separates the port, so an IPv6 address may be written in brackets: [::1]:6379.
    const match = /^\[?([^[\]]+?)\]?:(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (match?.[1] === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
      report(`${name} entry "${entry}" must be host:port, like redis-1:6379`);
      continue;
    }
    addresses.push({ host: match[1], port });
  }
  if (addresses.length === 0) report(`${name} must list at least one host:port`);
  return addresses;
}

/** Origins only (`https://app.example.com`), as CORS_ORIGINS and RETURN_TO_ORIGINS list them. */
function parseOrigin(entry: string): string | undefined {
  try {
    const parsed = new URL(entry);
    if (parsed.origin !== entry.replace(/\/$/, '') || !['http:', 'https:'].includes(parsed.protocol))
      return undefined;
    return parsed.origin;
  } catch {
    return undefined;
  }
}

/** A comma-separated list of origins (and `*` where `star` allows it); each bad entry is reported. */
function parseOriginList(
  raw: string,
  name: string,
  report: (problem: string) => void,
  options: { readonly star: boolean },
): string[] {
  const origins: string[] = [];
  for (const entry of splitList(raw)) {
    const origin = options.star && entry === '*' ? entry : parseOrigin(entry);
    if (origin === undefined)
      report(`${name} entry "${entry}" must be an origin like https://app.example.com`);
    else origins.push(origin);
  }
  return origins;
}

/** WCAG relative luminance of `#rrggbb`. */
function relativeLuminance(hex: string): number {
  const channel = (offset: number): number => {
    const value = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.040_45 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG contrast ratio of `#rrggbb` against white (the text on the buttons, the card behind the links). */
export function contrastWithWhite(hex: string): number {
  return 1.05 / (relativeLuminance(hex) + 0.05);
}

/** WCAG AA for normal text. */
const minimumBrandContrast = 4.5;

/** Why `secret` is not a Standard Webhooks signing secret, or undefined when it is one. */
function checkWebhookSecret(secret: string): string | undefined {
  if (!secret.startsWith('whsec_')) return 'each secret starts with whsec_';
  const body = secret.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return 'after whsec_ comes base64';
  if (Buffer.from(body, 'base64').length < 24) return 'each secret holds at least 24 random bytes';
  return undefined;
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Every variable Latchkey reads. Empty values count as unset. */
export const configVariables = {
  NODE_ENV: text({
    group: 'service',
    default: 'development',
    doc: '"production" requires SECRET_KEY and APP_BASE_URL and listens on 0.0.0.0 by default.',
    details: 'Any other value is treated as development.',
  }),
  SECRET_KEY: optionalText({
    group: 'service',
    defaultNote: 'generated into `DATA_DIR/secret-key`; **required in production**',
    example: '',
    accepts: 'at least 32 bytes in production',
    doc: 'Seals queued emails and keys the account pseudonyms of the security log; at least 32 bytes in production. Generate with: openssl rand -hex 32. Unset outside production: a random one is generated once into DATA_DIR/secret-key.',
    details:
      "Emails wait in the outbox sealed with AES-256-GCM under a key derived from it, and the security log names an account by an HMAC under another key derived from it (docs/security.md). In production it must not be a published placeholder such as the tutorial's `your-secret-key-change-this-in-production`.",
  }),
  SECRET_KEY_PREVIOUS: custom<readonly string[]>({
    group: 'service',
    defaultNote: 'none',
    example: '',
    accepts: 'comma-separated keys',
    doc: 'Earlier SECRET_KEY values (comma-separated): what they sealed (queued emails) still opens; new data is sealed under SECRET_KEY.',
    details:
      'Set it to the old key when rotating SECRET_KEY, and remove it once the mail queued before the rotation has gone out (operations.md, "Rotating SECRET_KEY"). Without it, mail sealed under an old key is abandoned.',
    fallback: [],
    parse: (raw) => splitList(raw),
  }),
  DATA_DIR: text({
    group: 'service',
    default: 'data',
    accepts: 'a folder, relative to the working directory',
    doc: 'Folder of the embedded database (pglite/) and of the development secret (secret-key).',
  }),
  HOST: optionalText({
    group: 'http',
    defaultNote: '`127.0.0.1`; `0.0.0.0` in production',
    example: '127.0.0.1',
    accepts: 'an address',
    doc: 'Address to listen on (default 127.0.0.1, or 0.0.0.0 in production).',
  }),
  PORT: integer({ group: 'http', default: 8000, min: 0, max: 65535, doc: 'Port to listen on.' }),
  // undefined: unset; null: set but not a URL (already reported, so "required in production" is not).
  APP_BASE_URL: custom<URL | null | undefined>({
    group: 'http',
    defaultNote: '`http://localhost:<PORT>`; **required in production**',
    example: 'https://auth.example.com',
    accepts: 'an `http:` or `https:` origin',
    doc: 'Public origin used in every emailed link; required in production (default http://localhost:PORT).',
    details:
      "Scheme, host, optional port; no path, query or fragment. Links are never built from a request's `Host` header. `https:` also turns on HSTS; cookies are `Secure` unless it is plain http on `localhost`, `127.0.0.1` or `[::1]`.",
    fallback: undefined,
    parse(raw, name, report) {
      const parsed = checkUrl(raw, name, ['http:', 'https:'], report);
      if (parsed !== undefined && (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== ''))
        report('APP_BASE_URL must be an origin only, like https://auth.example.com');
      return parsed ?? null;
    },
  }),
  TRUST_PROXY: custom<boolean | number | string>({
    group: 'http',
    defaultValue: 'false',
    accepts: 'addresses/CIDRs, a hop count, or `false`',
    doc: 'Trust X-Forwarded-For from these proxies (addresses/CIDRs, comma-separated), or a hop count such as 1 when the service is reachable only through the proxies. true is refused.',
    details: 'The per-IP rate limits key on the address this yields.',
    fallback: false,
    parse(raw, _name, report) {
      const lowered = raw.toLowerCase();
      if (/^\d+$/.test(raw)) return Number(raw);
      if (falseWords.includes(lowered)) return false;
      if (lowered === 'true') {
        report('TRUST_PROXY=true would believe any client; give a hop count or the proxy addresses/CIDRs');
        return false;
      }
      const entries = raw.split(',').map((entry) => entry.trim());
      const bad = entries.filter((entry) => !proxyAddressPattern.test(entry));
      if (bad.length > 0)
        report(`TRUST_PROXY has entries that are not addresses or CIDRs: ${bad.join(', ')}`);
      return entries.join(',');
    },
  }),
  CORS_ORIGINS: custom<readonly string[]>({
    group: 'http',
    defaultNote: 'none',
    example: 'https://app.example.com',
    accepts: 'comma-separated origins, or `*`',
    doc: 'Browser origins allowed to call the API with credentials (comma-separated); * only without credentials.',
    details: 'They are also trusted for cookie-authenticated changes.',
    fallback: [],
    parse: (raw, name, report) => parseOriginList(raw, name, report, { star: true }),
  }),
  CORS_ALLOW_CREDENTIALS: flag({
    group: 'http',
    default: true,
    doc: 'Whether the CORS_ORIGINS may send cookies.',
  }),
  SESSION_COOKIE_DOMAIN: custom<string | undefined>({
    group: 'http',
    defaultNote: 'none: the cookie goes to the host of APP_BASE_URL only',
    example: '',
    accepts: 'a domain that is, or is a parent of, the host of `APP_BASE_URL`',
    doc: 'Domain attribute of the session cookie, so sibling subdomains (app.example.com beside auth.example.com) receive it; unset: this host only.',
    details:
      'Every subdomain of it then receives the session cookie: set it only when they are all yours (docs/operations.md, "An app on the same site").',
    fallback: undefined,
    parse(raw, name, report) {
      const domain = raw.toLowerCase().replace(/^\./, '');
      if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(domain))
        report(`${name} must be a domain name like example.com (got "${raw}")`);
      return domain;
    },
  }),
  RETURN_TO_ORIGINS: custom<readonly string[]>({
    group: 'pages',
    defaultNote: 'none: the pages never send anyone elsewhere',
    example: 'https://app.example.com',
    accepts: 'comma-separated origins',
    doc: 'Origins the pages may send a person back to after signing in, signing up or following an emailed link (?return_to=, exact origin match).',
    fallback: [],
    parse: (raw, name, report) => parseOriginList(raw, name, report, { star: false }),
  }),
  PRODUCT_NAME: text({
    group: 'pages',
    default: 'Latchkey',
    accepts: 'text, at most 60 characters',
    doc: 'Name shown in the titles and headings of the hosted pages.',
    check: (value) => (value.length > 60 ? 'PRODUCT_NAME must be at most 60 characters' : undefined),
  }),
  BRAND_COLOR: text({
    group: 'pages',
    default: '#2f5bd3',
    accepts: '`#rrggbb` with a contrast of at least 4.5:1 against white',
    doc: 'Accent colour of the hosted pages (buttons, links, focus ring); must keep AA contrast (4.5:1) against white.',
    details:
      'White text sits on it in buttons and it colours links on white cards, so a colour below 4.5:1 stops start-up with its ratio.',
    check(value) {
      if (!/^#[0-9a-fA-F]{6}$/.test(value)) return `BRAND_COLOR must be #rrggbb (got "${value}")`;
      const ratio = contrastWithWhite(value);
      return ratio < minimumBrandContrast
        ? `BRAND_COLOR ${value} has a contrast of ${ratio.toFixed(2)}:1 against white; at least ${minimumBrandContrast}:1 is needed (WCAG AA)`
        : undefined;
    },
  }),
  DEFAULT_LOCALE: custom<Locale>({
    group: 'pages',
    defaultValue: 'en',
    accepts: supportedLocales.map((locale) => `\`${locale}\``).join(', '),
    doc: 'Language of pages and emails when neither the account, the form nor Accept-Language names a supported one.',
    details:
      'Accounts registered before locales were stored, and emails queued before, use it too. A page follows the signed-in account, else Accept-Language, else this.',
    fallback: 'en',
    parse(raw, _name, report) {
      const locale = raw.toLowerCase();
      if (isLocale(locale)) return locale;
      report(`DEFAULT_LOCALE must be one of ${supportedLocales.join(', ')} (got "${raw}")`);
      return 'en';
    },
  }),
  ACCESS_TOKEN_EXPIRE_MINUTES: integer({
    group: 'sessions',
    default: 30,
    min: 1,
    max: 60 * 24 * 90,
    doc: 'Lifetime of a login session (bearer token and cookie), in minutes.',
  }),
  JWT_EXPIRE_SECONDS: integer({
    group: 'jwt',
    default: 300,
    min: 5,
    max: 900,
    doc: 'Lifetime of a JWT minted by POST /jwt, in seconds (at most 15 minutes): a revoked session still has valid JWTs until then.',
  }),
  JWT_AUDIENCE: optionalText({
    group: 'jwt',
    defaultNote: 'the issuer (`APP_BASE_URL`)',
    example: '',
    accepts: 'text (a URL or a name of the downstream services)',
    doc: 'The `aud` claim of every minted JWT (default: the issuer, APP_BASE_URL).',
  }),
  JWT_KEY_ROTATION_DAYS: integer({
    group: 'jwt',
    default: 30,
    min: 1,
    max: 365,
    doc: 'Age at which the clean-up rotates the JWT signing key, in days (`npm run keys -- rotate` rotates at once).',
    details:
      'Checked at every clean-up pass (CLEANUP_INTERVAL_SECONDS), on any instance; the timeline is in docs/security.md.',
  }),
  JWT_JWKS_MAX_AGE_SECONDS: integer({
    group: 'jwt',
    default: 300,
    min: 1,
    max: 3600,
    doc: 'Cache-Control max-age of /.well-known/jwks.json, in seconds; a new key is published this long (plus the reload interval and 5 s) before it signs.',
  }),
  JWT_KEY_RELOAD_SECONDS: integer({
    group: 'jwt',
    default: 60,
    min: 1,
    max: 600,
    doc: 'How often every instance reloads the signing keys from the database, in seconds.',
  }),
  REFRESH_TOKEN_EXPIRE_DAYS: integer({
    group: 'sessions',
    default: 30,
    min: 1,
    max: 365,
    doc: 'Absolute lifetime of a refresh family (POST /login with refresh_token, then POST /token), in days from the login; no refresh extends it.',
  }),
  REFRESH_TOKEN_IDLE_DAYS: integer({
    group: 'sessions',
    default: 14,
    min: 1,
    max: 365,
    doc: 'A refresh family not refreshed for this many days ends (idle lifetime); at most REFRESH_TOKEN_EXPIRE_DAYS matters.',
  }),
  REFRESH_REUSE_GRACE_SECONDS: integer({
    group: 'sessions',
    default: 10,
    min: 0,
    max: 60,
    doc: 'How long after a refresh its predecessor token still answers the same new pair (racing tabs, a retried request); any later reuse ends the family.',
  }),
  PASSWORD_MIN_LENGTH: integer({
    group: 'passwords',
    default: defaultPasswordMinimumLength,
    min: lowestPasswordMinimumLength,
    max: passwordMaximumLength,
    doc: "Shortest acceptable new password, in characters after NFKC. 15 is NIST 800-63B-4's minimum for a password used alone; 8 only if another factor is always required.",
    details: 'See [security.md](security.md).',
  }),
  DATABASE_URL: url({
    group: 'database',
    defaultNote: 'unset: embedded PGlite in `DATA_DIR`',
    example: 'postgres://latchkey:CHANGE-ME@localhost:5432/latchkey',
    protocols: ['postgres:', 'postgresql:'],
    doc: 'PostgreSQL URL; unset means the embedded PGlite database in DATA_DIR.',
  }),
  DATABASE_POOL_SIZE: integer({
    group: 'database',
    default: 10,
    min: 1,
    max: 200,
    doc: 'Database connections per process (the embedded database too).',
  }),
  DATABASE_STATEMENT_TIMEOUT_MS: integer({
    group: 'database',
    default: 5000,
    min: 0,
    max: 600_000,
    doc: 'Longest a PostgreSQL statement may run (or wait for a lock) before the request is answered 503; 0 disables.',
    details:
      'Applied with SET LOCAL in every transaction and as a client-side limit on single statements, so it holds behind PgBouncer in transaction pooling mode too (operations.md). Migrations are not limited. The embedded database runs one statement at a time and ignores it.',
  }),
  WORKERS: integer({
    group: 'cluster',
    default: 1,
    min: 1,
    max: 256,
    doc: 'HTTP processes (node:cluster workers) sharing the port; above 1 needs DATABASE_URL and REDIS_URL.',
    details:
      'REDIS_URL is not needed when rate limits are off. One process already hashes on every core; see [performance.md](performance.md).',
  }),
  REDIS_URL: url({
    group: 'redis',
    defaultNote:
      'unset: sessions in the database, rate limits in the process (unless REDIS_CLUSTER_NODES or REDIS_SENTINELS is set)',
    example: 'redis://localhost:6379/0',
    protocols: ['redis:', 'rediss:'],
    doc: 'Redis URL for sessions and rate limits; with no Redis set (nor a cluster or sentinels), sessions live in the database, rate limits in memory.',
  }),
  REDIS_CLUSTER_NODES: custom<readonly RedisNodeAddress[] | undefined>({
    group: 'redis',
    defaultNote: 'unset',
    example: 'redis-1:6379,redis-2:6379,redis-3:6379',
    accepts: 'comma-separated `host:port`',
    doc: 'Redis Cluster: some of its nodes (the rest are discovered); instead of REDIS_URL.',
    details:
      'Exactly one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS. See [operations.md](operations.md#redis-cluster-and-sentinel).',
    fallback: undefined,
    parse: (raw, name, report) => parseNodeAddresses(raw, name, report),
  }),
  REDIS_SENTINELS: custom<readonly RedisNodeAddress[] | undefined>({
    group: 'redis',
    defaultNote: 'unset',
    example: 'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
    accepts: 'comma-separated `host:port`',
    doc: 'Redis Sentinel: the sentinels to ask for the primary (needs REDIS_SENTINEL_NAME); instead of REDIS_URL.',
    details:
      'Commands follow the primary through a failover; while there is none, requests are answered 503.',
    fallback: undefined,
    parse: (raw, name, report) => parseNodeAddresses(raw, name, report),
  }),
  REDIS_SENTINEL_NAME: optionalText({
    group: 'redis',
    defaultNote: 'unset',
    example: 'mymaster',
    doc: 'The name the sentinels monitor the primary under (`sentinel monitor <name> …`).',
  }),
  REDIS_SENTINEL_PASSWORD: optionalText({
    group: 'redis',
    defaultNote: 'unset: the sentinels need no password',
    example: 'CHANGE-ME',
    doc: 'Password of the sentinels themselves (their `requirepass`), when they have one.',
  }),
  REDIS_USERNAME: optionalText({
    group: 'redis',
    defaultNote: 'unset: the default user',
    example: 'latchkey',
    doc: 'Redis ACL user for REDIS_CLUSTER_NODES / REDIS_SENTINELS (with REDIS_URL, put it in the URL).',
  }),
  REDIS_TLS: flag({
    group: 'redis',
    default: false,
    doc: 'TLS to the Redis nodes (and sentinels) of REDIS_CLUSTER_NODES / REDIS_SENTINELS; REDIS_URL says it with rediss://.',
  }),
  REDIS_PASSWORD: optionalText({
    group: 'redis',
    defaultNote: 'unset',
    example: 'CHANGE-ME',
    doc: 'Redis password (every node of a cluster, primary and replicas under Sentinel); wins over one in REDIS_URL.',
  }),
  REDIS_KEY_PREFIX: text({
    group: 'redis',
    default: 'latchkey:',
    doc: 'Prefix of every Redis key, so several deployments can share one Redis.',
  }),
  SMTP_HOST: optionalText({
    group: 'email',
    defaultNote: 'unset: emails are printed to the console',
    example: 'smtp.example.com',
    accepts: 'a host name or address',
    doc: 'SMTP server; unset means every email is printed to the console instead of sent.',
    details: 'The other `SMTP_*` variables are read only when it is set.',
  }),
  SMTP_PORT: integer({
    group: 'email',
    readOnlyWith: 'SMTP_HOST',
    default: 587,
    min: 1,
    max: 65535,
    doc: 'SMTP port.',
  }),
  SMTP_SECURE: custom<SmtpSecurity | undefined>({
    group: 'email',
    readOnlyWith: 'SMTP_HOST',
    defaultNote: '`tls` if `SMTP_PORT` is 465, else `starttls`',
    example: 'starttls',
    accepts: '`tls`, `starttls`, `none`',
    doc: 'tls (implicit TLS, default on port 465), starttls (required STARTTLS, default otherwise) or none.',
    details:
      'Aliases: `true` and `ssl` for `tls`, `false` and `plain` for `none`. `starttls` never falls back to plain text; `none` is for local relays only.',
    fallback: undefined,
    parse(raw, _name, report) {
      const lowered = raw.toLowerCase();
      const security = smtpSecurityAliases[lowered];
      if (security === undefined) report(`SMTP_SECURE must be tls, starttls or none (got "${lowered}")`);
      return security ?? 'starttls';
    },
  }),
  SMTP_USERNAME: optionalText({
    group: 'email',
    readOnlyWith: 'SMTP_HOST',
    defaultNote: 'unset',
    example: 'CHANGE-ME',
    doc: 'SMTP login; set together with SMTP_PASSWORD, or neither (no AUTH).',
  }),
  SMTP_PASSWORD: optionalText({
    group: 'email',
    readOnlyWith: 'SMTP_HOST',
    defaultNote: 'unset',
    example: 'CHANGE-ME',
    doc: 'SMTP password.',
  }),
  SMTP_POOL_SIZE: integer({
    group: 'email',
    readOnlyWith: 'SMTP_HOST',
    default: 4,
    min: 1,
    max: 100,
    doc: 'Pooled SMTP connections per process.',
  }),
  SMTP_SEND_TIMEOUT_SECONDS: integer({
    group: 'email',
    readOnlyWith: 'SMTP_HOST',
    default: 60,
    min: 1,
    max: 600,
    doc: 'Upper bound on one send, in seconds; a dispatcher leases each email for twice this.',
    details:
      'Waiting for a pooled connection counts. Mail held by a crashed process is sent by another (or after a restart) twice this long after the crash.',
  }),
  FROM_EMAIL: text({
    group: 'email',
    default: 'Latchkey <noreply@localhost>',
    accepts: 'one line',
    doc: 'From header of every email; its domain also ends each Message-ID.',
    check: (value) => (/[\r\n]/.test(value) ? 'FROM_EMAIL must be one line' : undefined),
  }),
  EMAIL_TEMPLATES_DIR: optionalText({
    group: 'email',
    defaultNote: 'unset: the built-in emails only',
    example: 'email-templates',
    accepts: 'a folder, relative to the working directory',
    doc: "Folder of the operator's email templates: `<locale>/<template>.subject.txt`, `.text.txt` and `.html`; a part without a file is the built-in one.",
    details:
      'Read and checked once at start-up by `npm start` and `npm run worker`; a bad file (unknown variable, template or locale, syntax error) stops start-up naming the file and line. See [email-templates.md](email-templates.md).',
  }),
  EMAIL_DISPATCHER: flag({
    group: 'email',
    default: true,
    doc: 'Run the outbox dispatchers (queued mail, and webhook deliveries) in this process; safe on every instance.',
    details:
      'At least one process (an instance or `npm run worker`) must run them, or no mail or webhook leaves.',
  }),
  EMAIL_DISPATCH_POLL_MS: integer({
    group: 'email',
    default: 1000,
    min: 50,
    max: 60_000,
    doc: 'How often an idle dispatcher looks for due mail, in milliseconds.',
    details: 'Mail queued by the same process is picked up at once.',
  }),
  EMAIL_MAX_DEFER_SECONDS: integer({
    group: 'email',
    default: 10,
    min: 0,
    max: 300,
    doc: 'While every core of this process is hashing passwords and more hashes wait (a login or registration storm), its dispatcher holds mail back for at most this many seconds, so the requests get the CPU first; 0: never.',
    details: 'Mail is late by that much at most, never lost.',
  }),
  EMAIL_RETRY_MAX_DELAY_SECONDS: integer({
    group: 'email',
    default: 30 * 60,
    min: 1,
    max: 24 * 60 * 60,
    doc: 'Cap of the growing delay between two attempts at one email, in seconds.',
    details: 'The delays are jittered. Attempts stop 48 h after the email was queued.',
  }),
  CLEANUP_INTERVAL_SECONDS: integer({
    group: 'housekeeping',
    default: 10 * 60,
    min: 0,
    max: 24 * 60 * 60,
    doc: 'How often expired tokens, sessions and week-old sent mail are deleted, in seconds; 0: not in this process.',
    details: 'Week-old abandoned mail too. Safe on every instance.',
  }),
  ACCOUNT_DELETION_GRACE_DAYS: integer({
    group: 'housekeeping',
    default: 7,
    min: 0,
    max: 365,
    doc: 'How long an account its owner deleted can be restored (the emailed restore link), in days; then housekeeping removes it; 0: at its next pass.',
    details:
      'During the grace the account answers as an unknown address; after it the address registers as new.',
  }),
  AUDIT_RETENTION_DAYS: integer({
    group: 'housekeeping',
    default: 90,
    min: 1,
    max: 3650,
    doc: 'How long the audit trail (GET /admin/audit, `npm run admin -- audit`) keeps an event, in days; housekeeping deletes older ones in batches.',
  }),
  WORKER_HEALTH_PORT: optionalInteger({
    group: 'worker',
    defaultNote: 'unset: no HTTP',
    example: '8001',
    min: 0,
    max: 65535,
    doc: '`npm run worker` only: port of its /health/live, /health/ready and /metrics; unset: no HTTP.',
  }),
  METRICS_ENABLED: flag({ group: 'metrics', default: true, doc: 'Prometheus metrics at /metrics.' }),
  RATE_LIMIT_ENABLED: flag({
    group: 'rateLimit',
    default: true,
    doc: 'Rate limits: false switches every layer off at once.',
    details: 'The budgets are listed in [rate-limits.md](rate-limits.md).',
  }),
  RATE_LIMIT_PER_IP: flag({ group: 'rateLimit', default: true, doc: 'false: no limit per client IP.' }),
  RATE_LIMIT_PER_ACCOUNT: flag({
    group: 'rateLimit',
    default: true,
    doc: 'false: no limit per submitted address.',
  }),
  RATE_LIMIT_PER_TOKEN: flag({ group: 'rateLimit', default: true, doc: 'false: no limit per reset token.' }),
  RATE_LIMIT_PER_RECIPIENT: flag({
    group: 'rateLimit',
    default: true,
    doc: 'false: no limit per email recipient.',
  }),
  RATE_LIMITS: custom<Partial<Record<BudgetName, Budget>>>({
    group: 'rateLimit',
    defaultNote: 'none',
    example: 'account.login.minute=5/60,ip.login=20/60',
    accepts: '`NAME=POINTS/SECONDS`, comma-separated',
    doc: 'Budget overrides, NAME=POINTS/SECONDS, comma-separated (names in docs/rate-limits.md).',
    fallback: {},
    parse(raw, _name, report) {
      const overrides: Partial<Record<BudgetName, Budget>> = {};
      for (const entry of splitList(raw)) {
        const match = ratesPattern.exec(entry);
        const name = match?.[1] ?? '';
        if (match === null || !isBudgetName(name) || Number(match[2]) < 1 || Number(match[3]) < 1) {
          report(
            `RATE_LIMITS entry "${entry}" must be NAME=POINTS/SECONDS with a known name (see docs/security.md)`,
          );
          continue;
        }
        overrides[name] = { points: Number(match[2]), durationSeconds: Number(match[3]) };
      }
      return overrides;
    },
  }),
  WEBHOOK_URLS: custom<readonly string[]>({
    group: 'webhooks',
    defaultNote: 'none: only the endpoints managed through the admin API',
    example: '',
    accepts: 'comma-separated `https://` or `http://` URLs',
    doc: 'Endpoints that receive every account event as a signed Standard Webhooks POST; needs WEBHOOK_SECRET.',
    details:
      'Events are queued in the transaction of the change and retried with backoff for 3 days (operations.md, "Webhooks").',
    fallback: [],
    parse(raw, name, report) {
      const urls = splitList(raw);
      for (const entry of urls) checkUrl(entry, name, ['https:', 'http:'], report);
      return urls;
    },
  }),
  WEBHOOK_SECRET: custom<readonly string[]>({
    group: 'webhooks',
    defaultNote: 'none',
    example: '',
    accepts: '`whsec_` + base64 of at least 24 bytes; several separated by spaces or commas',
    doc: 'Signing secret of the WEBHOOK_URLS endpoints (managed ones have their own); during a rotation list the new one and the old one: each attempt carries a signature for each.',
    fallback: [],
    parse(raw, name, report) {
      const secrets = raw.split(/[\s,]+/).filter(Boolean);
      for (const secret of secrets) {
        const problem = checkWebhookSecret(secret);
        if (problem !== undefined) report(`${name}: ${problem}`);
      }
      return secrets;
    },
  }),
  WEBHOOK_ALLOW_PRIVATE: flag({
    group: 'webhooks',
    default: false,
    doc: 'Deliver to endpoints whose address is loopback, private, link-local or unique-local (refused by default).',
  }),
  WEBHOOK_TIMEOUT_SECONDS: integer({
    group: 'webhooks',
    default: 10,
    min: 1,
    max: 60,
    doc: 'Upper bound on one delivery attempt (connect, send, answer), in seconds.',
  }),
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: integer({
    group: 'webhooks',
    default: 60 * 60,
    min: 1,
    max: 24 * 60 * 60,
    doc: 'Cap of the growing delay between two attempts at one delivery, in seconds.',
    details: 'The delays start at 5 s, double, and are jittered. Attempts stop 3 days after the event.',
  }),
  LOG_LEVEL: custom<string>({
    group: 'logging',
    defaultValue: 'info',
    accepts: logLevels.map((level) => `\`${level}\``).join(', '),
    doc: 'fatal, error, warn, info, debug, trace or silent.',
    fallback: 'info',
    parse(raw, _name, report) {
      const level = raw.toLowerCase();
      if (!logLevels.includes(level)) report(`LOG_LEVEL must be one of ${logLevels.join(', ')}`);
      return level;
    },
  }),
} as const;

export type ConfigVariableName = keyof typeof configVariables;
export type ConfigValues = {
  readonly [Name in ConfigVariableName]: (typeof configVariables)[Name] extends ConfigVariable<infer T>
    ? T
    : never;
};
