// The only reader of the environment. Every variable is described once, in `configVariables` (type, default,
// bounds, meaning, group), and every rule that spans variables in `configRules`; loadConfig parses with them,
// and `npm run config:docs` writes .env.example and docs/configuration.md from them (a test keeps both true).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import {
  defaultPasswordMinimumLength,
  lowestPasswordMinimumLength,
  passwordMaximumLength,
} from './security/password-policy.ts';
import {
  defaultBudgets,
  isBudgetName,
  type Budget,
  type BudgetName,
  type RateLimitLayer,
} from './security/rate-limit-budgets.ts';

/** How mail leaves the process: implicit TLS (465), STARTTLS required (587), or plain for local relays. */
export type SmtpSecurity = 'tls' | 'starttls' | 'none';

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  readonly security: SmtpSecurity;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly poolSize: number;
  /** Upper bound on one send; a dispatcher's lease on an email is twice this. */
  readonly sendTimeoutSeconds: number;
}

export interface Config {
  readonly nodeEnv: string;
  readonly isProduction: boolean;
  /**
   * SECRET_KEY. Unset is allowed outside production only: the process that needs a key then reads or creates
   * DATA_DIR/secret-key (src/composition/secret-key.ts); loading the configuration never writes a file.
   */
  readonly secretKey: string | undefined;
  /** The embedded database (pglite/) and the development secret. */
  readonly dataDir: string;
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** The public origin; every emailed link is built from it. */
    readonly appBaseUrl: URL;
    /** Whether X-Forwarded-For is believed: false, a hop count, or a list of proxy addresses/CIDRs. */
    readonly trustProxy: boolean | number | string;
    /** Origins allowed to call the API from a browser (CORS), and trusted for cookie-authenticated changes. */
    readonly corsOrigins: readonly string[];
    readonly corsAllowCredentials: boolean;
  };
  readonly sessions: {
    /** ACCESS_TOKEN_EXPIRE_MINUTES (the tutorial's name): the lifetime of a bearer token and cookie alike. */
    readonly lifetimeMinutes: number;
  };
  readonly passwords: {
    /** Shortest acceptable new password, in code points after NFKC (NIST 800-63B-4: 15 for a sole factor). */
    readonly minimumLength: number;
  };
  readonly database: {
    /** Unset: embedded PGlite in `dataDir`. */
    readonly url: string | undefined;
    readonly poolSize: number;
  };
  readonly cluster: {
    /** HTTP processes (node:cluster workers) sharing the port; 1 = this process serves alone. */
    readonly workers: number;
  };
  /** Unset: sessions in the database, rate limits in the process. */
  readonly redis:
    { readonly url: string; readonly password: string | undefined; readonly keyPrefix: string } | undefined;
  readonly email: {
    /** Unset: emails are printed to the console. */
    readonly smtp: SmtpConfig | undefined;
    readonly from: string;
    readonly dispatcher: {
      /** Run the outbox dispatcher inside the API process (the worker process always runs it). */
      readonly enabled: boolean;
      readonly pollMilliseconds: number;
      /** While every core hashes passwords and more wait, mail from this process waits up to this long; 0: never. */
      readonly maxDeferSeconds: number;
      /** Cap of the growing delay between two attempts at one email. */
      readonly retryMaxDelaySeconds: number;
    };
  };
  readonly housekeeping: {
    /** How often expired tokens, sessions and old sent mail are deleted; 0: never, in this process. */
    readonly intervalSeconds: number;
  };
  readonly worker: {
    /** `npm run worker` only: port of its /health/live, /health/ready and /metrics; unset: no HTTP at all. */
    readonly healthPort: number | undefined;
  };
  readonly metrics: { readonly enabled: boolean };
  readonly rateLimit: {
    /** Master switch; each layer can also be switched off alone. */
    readonly enabled: boolean;
    readonly layers: Readonly<Record<RateLimitLayer, boolean>>;
    /** Every budget, the defaults with RATE_LIMITS applied. */
    readonly budgets: Readonly<Record<BudgetName, Budget>>;
  };
  readonly logging: { readonly level: string };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

// ---- How one variable is described ----

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

// ---- The environment ----

/** The groups of the result (`config.http`, `config.email` …), in the order docs/configuration.md shows them. */
export const configGroups = {
  service: 'Service',
  http: 'HTTP',
  sessions: 'Sessions',
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
    doc: 'Seals queued emails; at least 32 bytes in production. Generate with: openssl rand -hex 32. Unset outside production: a random one is generated once into DATA_DIR/secret-key.',
    details:
      "Emails wait in the outbox sealed with AES-256-GCM under a key derived from it. In production it must not be a published placeholder such as the tutorial's `your-secret-key-change-this-in-production`.",
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
  APP_BASE_URL: custom<URL | undefined>({
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
      return parsed;
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
    parse(raw, _name, report) {
      const origins: string[] = [];
      for (const origin of splitList(raw)) {
        if (origin === '*') {
          origins.push(origin);
          continue;
        }
        try {
          const parsed = new URL(origin);
          if (parsed.origin !== origin.replace(/\/$/, '') || !['http:', 'https:'].includes(parsed.protocol))
            throw new Error();
          origins.push(parsed.origin);
        } catch {
          report(`CORS_ORIGINS entry "${origin}" must be an origin like https://app.example.com`);
        }
      }
      return origins;
    },
  }),
  CORS_ALLOW_CREDENTIALS: flag({
    group: 'http',
    default: true,
    doc: 'Whether the CORS_ORIGINS may send cookies.',
  }),
  ACCESS_TOKEN_EXPIRE_MINUTES: integer({
    group: 'sessions',
    default: 30,
    min: 1,
    max: 60 * 24 * 90,
    doc: 'Lifetime of a login session (bearer token and cookie), in minutes.',
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
    defaultNote: 'unset: sessions in the database, rate limits in the process',
    example: 'redis://localhost:6379/0',
    protocols: ['redis:', 'rediss:'],
    doc: 'Redis URL for sessions and rate limits; unset means sessions in the database, rate limits in memory.',
  }),
  REDIS_PASSWORD: optionalText({
    group: 'redis',
    defaultNote: 'unset',
    example: 'CHANGE-ME',
    doc: 'Redis password; wins over a password in REDIS_URL.',
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
  EMAIL_DISPATCHER: flag({
    group: 'email',
    default: true,
    doc: 'Run the outbox dispatcher (sends the queued mail) in this process; safe on every instance.',
    details: 'At least one process must run it, or no mail leaves.',
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
type ConfigValues = {
  readonly [Name in ConfigVariableName]: (typeof configVariables)[Name] extends ConfigVariable<infer T>
    ? T
    : never;
};

// ---- Rules across variables ----

/** Secrets that were published with the tutorial or in examples: never acceptable in production. */
const knownPlaceholderSecrets = new Set([
  'your-secret-key-change-this-in-production',
  'your-secret-key',
  'changeme',
  'change-me',
  'secret',
  'replace-me-with-at-least-32-random-bytes',
]);
const minimumSecretKeyBytes = 32;

export interface ConfigRule {
  /** One line for docs/configuration.md. */
  readonly doc: string;
  /** The problem, or undefined when the values keep the rule. */
  check(values: ConfigValues): string | undefined;
}

const isProductionEnv = (values: ConfigValues): boolean => values.NODE_ENV === 'production';

export const configRules: readonly ConfigRule[] = [
  {
    doc: 'In production, `APP_BASE_URL` must be set.',
    check: (values) =>
      isProductionEnv(values) && values.APP_BASE_URL === undefined
        ? 'APP_BASE_URL is required in production: it is the origin used in emailed links'
        : undefined,
  },
  {
    doc: 'In production, `SECRET_KEY` must be set, at least 32 bytes long, and not one of the published placeholders.',
    check(values) {
      if (!isProductionEnv(values)) return undefined;
      const secretKey = values.SECRET_KEY;
      if (secretKey === undefined) return 'SECRET_KEY is required in production (at least 32 random bytes)';
      if (knownPlaceholderSecrets.has(secretKey.toLowerCase()))
        return 'SECRET_KEY is a published placeholder; generate one with `openssl rand -hex 32`';
      if (Buffer.byteLength(secretKey) < minimumSecretKeyBytes)
        return `SECRET_KEY must be at least ${minimumSecretKeyBytes} bytes in production`;
      return undefined;
    },
  },
  {
    doc: '`SMTP_USERNAME` and `SMTP_PASSWORD` are set together, or neither.',
    check: (values) =>
      values.SMTP_HOST !== undefined &&
      (values.SMTP_USERNAME === undefined) !== (values.SMTP_PASSWORD === undefined)
        ? 'SMTP_USERNAME and SMTP_PASSWORD must be set together'
        : undefined,
  },
  {
    doc: "`CORS_ORIGINS=*` only with `CORS_ALLOW_CREDENTIALS=false`: any site could otherwise act with the visitor's cookie.",
    check: (values) =>
      values.CORS_ORIGINS.includes('*') && values.CORS_ALLOW_CREDENTIALS
        ? 'CORS_ORIGINS=* cannot be combined with credentials: list the origins, or set CORS_ALLOW_CREDENTIALS=false'
        : undefined,
  },
  // One process by default: it already hashes on every core, and on 2 cores WORKERS=2 gained little while it
  // tripled the memory (docs/decisions/0008-one-process-by-default.md). Several processes need shared state:
  // the embedded database belongs to one process, and rate limits kept in process memory would multiply.
  {
    doc: '`WORKERS` above 1 needs `DATABASE_URL` (the embedded database serves one process), and `REDIS_URL` unless `RATE_LIMIT_ENABLED=false` (limits kept in process memory would multiply).',
    check(values) {
      if (values.WORKERS <= 1) return undefined;
      if (values.DATABASE_URL === undefined)
        return 'WORKERS above 1 needs DATABASE_URL: the embedded database serves one process';
      if (values.REDIS_URL === undefined && values.RATE_LIMIT_ENABLED)
        return 'WORKERS above 1 needs REDIS_URL: rate limits kept in process memory would multiply';
      return undefined;
    },
  },
];

// ---- Loading ----

/**
 * Reads the environment once. Every problem is collected so a bad deployment learns all of them at once.
 * `env` defaults to process.env merged with a `.env` file in the working directory (process env wins).
 * Reads no file but `.env`, writes none.
 */
export function loadConfig(env: NodeJS.ProcessEnv = readEnvironment()): Config {
  const problems: string[] = [];
  const setValue = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(configVariables) as [string, ConfigVariable<unknown>][]) {
    const raw = setValue(name);
    const read = variable.readOnlyWith === undefined || setValue(variable.readOnlyWith) !== undefined;
    values[name] =
      raw === undefined || !read
        ? variable.fallback
        : variable.parse(raw, name, (problem) => problems.push(problem));
  }
  const parsed = values as ConfigValues;
  for (const rule of configRules) {
    const problem = rule.check(parsed);
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(groupConfig(parsed));
}

function groupConfig(values: ConfigValues): Config {
  const isProduction = isProductionEnv(values);
  const smtpHost = values.SMTP_HOST;
  return {
    nodeEnv: values.NODE_ENV,
    isProduction,
    secretKey: values.SECRET_KEY,
    dataDir: resolve(values.DATA_DIR),
    http: {
      host: values.HOST ?? (isProduction ? '0.0.0.0' : '127.0.0.1'),
      port: values.PORT,
      appBaseUrl: values.APP_BASE_URL ?? new URL(`http://localhost:${values.PORT}`),
      trustProxy: values.TRUST_PROXY,
      corsOrigins: values.CORS_ORIGINS,
      corsAllowCredentials: values.CORS_ALLOW_CREDENTIALS,
    },
    sessions: { lifetimeMinutes: values.ACCESS_TOKEN_EXPIRE_MINUTES },
    passwords: { minimumLength: values.PASSWORD_MIN_LENGTH },
    database: { url: values.DATABASE_URL, poolSize: values.DATABASE_POOL_SIZE },
    cluster: { workers: values.WORKERS },
    redis:
      values.REDIS_URL === undefined
        ? undefined
        : { url: values.REDIS_URL, password: values.REDIS_PASSWORD, keyPrefix: values.REDIS_KEY_PREFIX },
    email: {
      smtp:
        smtpHost === undefined
          ? undefined
          : {
              host: smtpHost,
              port: values.SMTP_PORT,
              security: values.SMTP_SECURE ?? (values.SMTP_PORT === 465 ? 'tls' : 'starttls'),
              username: values.SMTP_USERNAME,
              password: values.SMTP_PASSWORD,
              poolSize: values.SMTP_POOL_SIZE,
              sendTimeoutSeconds: values.SMTP_SEND_TIMEOUT_SECONDS,
            },
      from: values.FROM_EMAIL,
      dispatcher: {
        enabled: values.EMAIL_DISPATCHER,
        pollMilliseconds: values.EMAIL_DISPATCH_POLL_MS,
        maxDeferSeconds: values.EMAIL_MAX_DEFER_SECONDS,
        retryMaxDelaySeconds: values.EMAIL_RETRY_MAX_DELAY_SECONDS,
      },
    },
    housekeeping: { intervalSeconds: values.CLEANUP_INTERVAL_SECONDS },
    worker: { healthPort: values.WORKER_HEALTH_PORT },
    metrics: { enabled: values.METRICS_ENABLED },
    rateLimit: {
      enabled: values.RATE_LIMIT_ENABLED,
      layers: {
        ip: values.RATE_LIMIT_PER_IP,
        account: values.RATE_LIMIT_PER_ACCOUNT,
        token: values.RATE_LIMIT_PER_TOKEN,
        recipient: values.RATE_LIMIT_PER_RECIPIENT,
      },
      budgets: { ...defaultBudgets, ...values.RATE_LIMITS },
    },
    logging: { level: values.LOG_LEVEL },
  };
}

/** Freezes plain objects and arrays all the way down (a URL stays as it is). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof URL)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function readEnvironment(): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = {};
  if (existsSync('.env')) {
    // process.loadEnvFile would write into process.env; parse instead so process env keeps precedence.
    Object.assign(merged, parseEnv(readFileSync('.env', 'utf8')));
  }
  return { ...merged, ...process.env };
}
