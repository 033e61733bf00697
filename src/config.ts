// The only reader of the environment. Every variable is described once, in src/config-variables.ts, and every
// rule that spans variables in `configRules` below; loadConfig parses with both and returns the configuration
// grouped (config.http, config.email …) and frozen. `npm run config:docs` writes .env.example and
// docs/configuration.md from the same description (a test keeps both true).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import {
  configVariables,
  type ConfigValues,
  type ConfigVariable,
  type RedisNodeAddress,
  type SmtpSecurity,
} from './config-variables.ts';
import type { RedisTopology } from './storage/redis/client.ts';
import type { Locale } from './security/locale.ts';
import {
  defaultBudgets,
  type Budget,
  type BudgetName,
  type RateLimitLayer,
} from './security/rate-limit-budgets.ts';

export type { RedisNodeAddress, RedisTopology, SmtpSecurity };

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
  /** SECRET_KEY_PREVIOUS: earlier keys, tried after secretKey when opening what they sealed. */
  readonly previousSecretKeys: readonly string[];
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
    /** SESSION_COOKIE_DOMAIN: the session cookie's Domain attribute; undefined: this host only. */
    readonly sessionCookieDomain: string | undefined;
  };
  readonly pages: {
    readonly productName: string;
    /** `#rrggbb`, AA contrast against white. */
    readonly brandColor: string;
    /** Exact origins a page may send a person back to (?return_to=). */
    readonly returnToOrigins: readonly string[];
    /** DEFAULT_LOCALE: the language when nothing else names a supported one. */
    readonly defaultLocale: Locale;
  };
  readonly sessions: {
    /** ACCESS_TOKEN_EXPIRE_MINUTES (the tutorial's name): the lifetime of a bearer token and cookie alike. */
    readonly lifetimeMinutes: number;
    readonly refreshTokens: {
      readonly expireDays: number;
      readonly idleDays: number;
      readonly reuseGraceSeconds: number;
    };
  };
  readonly jwt: {
    /** JWT_EXPIRE_SECONDS: the lifetime of a minted JWT (`exp` - `iat`). */
    readonly lifetimeSeconds: number;
    /** JWT_AUDIENCE; unset: the issuer. */
    readonly audience: string | undefined;
    readonly keyRotationDays: number;
    readonly jwksMaxAgeSeconds: number;
    readonly keyReloadSeconds: number;
  };
  readonly passwords: {
    /** Shortest acceptable new password, in code points after NFKC (NIST 800-63B-4: 15 for a sole factor). */
    readonly minimumLength: number;
  };
  readonly database: {
    /** Unset: embedded PGlite in `dataDir`. */
    readonly url: string | undefined;
    readonly poolSize: number;
    /** 0: no limit. */
    readonly statementTimeoutMilliseconds: number;
  };
  readonly cluster: {
    /** HTTP processes (node:cluster workers) sharing the port; 1 = this process serves alone. */
    readonly workers: number;
  };
  /** Unset: sessions in the database, rate limits in the process. */
  readonly redis: RedisConfig | undefined;
  readonly email: {
    /** Unset: emails are printed to the console. */
    readonly smtp: SmtpConfig | undefined;
    readonly from: string;
    /** EMAIL_TEMPLATES_DIR, absolute; unset: the built-in templates only. */
    readonly templatesDir: string | undefined;
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
    /** ACCOUNT_DELETION_GRACE_DAYS: how long a deleted account can be restored before it is removed. */
    readonly accountDeletionGraceDays: number;
    /** AUDIT_RETENTION_DAYS: how long the audit trail keeps an event. */
    readonly auditRetentionDays: number;
  };
  readonly worker: {
    /** `npm run worker` only: port of its /health/live, /health/ready and /metrics; unset: no HTTP at all. */
    readonly healthPort: number | undefined;
  };
  readonly metrics: { readonly enabled: boolean };
  readonly webhooks: {
    /** Empty: no webhooks. */
    readonly urls: readonly string[];
    /** `whsec_` secrets; every attempt is signed with each. */
    readonly secrets: readonly string[];
    readonly allowPrivateTargets: boolean;
    readonly timeoutSeconds: number;
    readonly retryMaxDelaySeconds: number;
  };
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
    doc: 'In production, every `SECRET_KEY_PREVIOUS` entry is at least 32 bytes long and not a published placeholder: what it opens is trusted as what the service sealed.',
    check(values) {
      if (!isProductionEnv(values)) return undefined;
      const weak = values.SECRET_KEY_PREVIOUS.filter(
        (key) =>
          knownPlaceholderSecrets.has(key.toLowerCase()) || Buffer.byteLength(key) < minimumSecretKeyBytes,
      );
      return weak.length === 0
        ? undefined
        : `SECRET_KEY_PREVIOUS holds ${weak.length} key(s) that are published placeholders or shorter than ${minimumSecretKeyBytes} bytes; production never sealed anything under such a key`;
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
  {
    doc: '`SESSION_COOKIE_DOMAIN` is the host of `APP_BASE_URL` or a parent domain of it (a browser refuses any other).',
    check(values) {
      const domain = values.SESSION_COOKIE_DOMAIN;
      if (domain === undefined) return undefined;
      const host = (values.APP_BASE_URL ?? new URL(`http://localhost:${values.PORT}`)).hostname;
      return host === domain || host.endsWith(`.${domain}`)
        ? undefined
        : `SESSION_COOKIE_DOMAIN ${domain} does not cover the host of APP_BASE_URL (${host}); browsers would drop the cookie`;
    },
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
      if (redisTopologiesSet(values).length === 0 && values.RATE_LIMIT_ENABLED)
        return 'WORKERS above 1 needs REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS): rate limits kept in process memory would multiply';
      return undefined;
    },
  },
  {
    doc: '`WEBHOOK_URLS` needs `WEBHOOK_SECRET`: every delivery is signed.',
    check: (values) =>
      values.WEBHOOK_URLS.length > 0 && values.WEBHOOK_SECRET.length === 0
        ? 'WEBHOOK_URLS needs WEBHOOK_SECRET (whsec_ + base64 of at least 24 random bytes): every delivery is signed'
        : undefined,
  },
  // One Redis, reached one way: two ways set at once would leave it to chance which one holds the sessions.
  {
    doc: 'At most one of `REDIS_URL`, `REDIS_CLUSTER_NODES` and `REDIS_SENTINELS`; `REDIS_SENTINELS` needs `REDIS_SENTINEL_NAME`; `REDIS_TLS`, `REDIS_USERNAME` and `REDIS_SENTINEL_PASSWORD` belong to the cluster or sentinel ways (`REDIS_URL` carries its own: `rediss://user:password@…`).',
    check(values) {
      const set = redisTopologiesSet(values);
      if (set.length > 1)
        return `Redis is reached one way only: set one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS (got ${set.join(', ')})`;
      if (values.REDIS_SENTINELS !== undefined && values.REDIS_SENTINEL_NAME === undefined)
        return 'REDIS_SENTINELS needs REDIS_SENTINEL_NAME: the name the sentinels monitor the primary under';
      if (values.REDIS_SENTINEL_NAME !== undefined && values.REDIS_SENTINELS === undefined)
        return 'REDIS_SENTINEL_NAME is set without REDIS_SENTINELS: list the sentinels to ask';
      if (values.REDIS_SENTINEL_PASSWORD !== undefined && values.REDIS_SENTINELS === undefined)
        return 'REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS';
      if (values.REDIS_URL !== undefined && (values.REDIS_TLS || values.REDIS_USERNAME !== undefined))
        return 'REDIS_TLS and REDIS_USERNAME are for REDIS_CLUSTER_NODES / REDIS_SENTINELS: with REDIS_URL write rediss://user@host instead';
      return undefined;
    },
  },
];

export interface RedisConfig {
  readonly topology: RedisTopology;
  /** Wins over a password in the URL. */
  readonly password: string | undefined;
  /** Cluster and sentinel ways only; a URL carries its own. */
  readonly username: string | undefined;
  /** Cluster and sentinel ways only; a URL says it with rediss://. */
  readonly tls: boolean;
  readonly keyPrefix: string;
}

function redisTopologiesSet(values: ConfigValues): string[] {
  return (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter(
    (name) => values[name] !== undefined,
  );
}

function redisTopologyOf(values: ConfigValues): RedisTopology | undefined {
  if (values.REDIS_URL !== undefined) return { kind: 'url', url: values.REDIS_URL };
  if (values.REDIS_CLUSTER_NODES !== undefined) return { kind: 'cluster', nodes: values.REDIS_CLUSTER_NODES };
  if (values.REDIS_SENTINELS !== undefined && values.REDIS_SENTINEL_NAME !== undefined)
    return {
      kind: 'sentinel',
      sentinels: values.REDIS_SENTINELS,
      name: values.REDIS_SENTINEL_NAME,
      sentinelPassword: values.REDIS_SENTINEL_PASSWORD,
    };
  return undefined;
}

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
    previousSecretKeys: values.SECRET_KEY_PREVIOUS,
    dataDir: resolve(values.DATA_DIR),
    http: {
      host: values.HOST ?? (isProduction ? '0.0.0.0' : '127.0.0.1'),
      port: values.PORT,
      appBaseUrl: values.APP_BASE_URL ?? new URL(`http://localhost:${values.PORT}`),
      trustProxy: values.TRUST_PROXY,
      corsOrigins: values.CORS_ORIGINS,
      corsAllowCredentials: values.CORS_ALLOW_CREDENTIALS,
      sessionCookieDomain: values.SESSION_COOKIE_DOMAIN,
    },
    pages: {
      productName: values.PRODUCT_NAME,
      brandColor: values.BRAND_COLOR.toLowerCase(),
      returnToOrigins: values.RETURN_TO_ORIGINS,
      defaultLocale: values.DEFAULT_LOCALE,
    },
    sessions: {
      lifetimeMinutes: values.ACCESS_TOKEN_EXPIRE_MINUTES,
      refreshTokens: {
        expireDays: values.REFRESH_TOKEN_EXPIRE_DAYS,
        idleDays: values.REFRESH_TOKEN_IDLE_DAYS,
        reuseGraceSeconds: values.REFRESH_REUSE_GRACE_SECONDS,
      },
    },
    jwt: {
      lifetimeSeconds: values.JWT_EXPIRE_SECONDS,
      audience: values.JWT_AUDIENCE,
      keyRotationDays: values.JWT_KEY_ROTATION_DAYS,
      jwksMaxAgeSeconds: values.JWT_JWKS_MAX_AGE_SECONDS,
      keyReloadSeconds: values.JWT_KEY_RELOAD_SECONDS,
    },
    passwords: { minimumLength: values.PASSWORD_MIN_LENGTH },
    database: {
      url: values.DATABASE_URL,
      poolSize: values.DATABASE_POOL_SIZE,
      statementTimeoutMilliseconds: values.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    cluster: { workers: values.WORKERS },
    redis: redisConfigOf(values),
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
      templatesDir:
        values.EMAIL_TEMPLATES_DIR === undefined ? undefined : resolve(values.EMAIL_TEMPLATES_DIR),
      dispatcher: {
        enabled: values.EMAIL_DISPATCHER,
        pollMilliseconds: values.EMAIL_DISPATCH_POLL_MS,
        maxDeferSeconds: values.EMAIL_MAX_DEFER_SECONDS,
        retryMaxDelaySeconds: values.EMAIL_RETRY_MAX_DELAY_SECONDS,
      },
    },
    housekeeping: {
      intervalSeconds: values.CLEANUP_INTERVAL_SECONDS,
      accountDeletionGraceDays: values.ACCOUNT_DELETION_GRACE_DAYS,
      auditRetentionDays: values.AUDIT_RETENTION_DAYS,
    },
    worker: { healthPort: values.WORKER_HEALTH_PORT },
    metrics: { enabled: values.METRICS_ENABLED },
    webhooks: {
      urls: values.WEBHOOK_URLS,
      secrets: values.WEBHOOK_SECRET,
      allowPrivateTargets: values.WEBHOOK_ALLOW_PRIVATE,
      timeoutSeconds: values.WEBHOOK_TIMEOUT_SECONDS,
      retryMaxDelaySeconds: values.WEBHOOK_RETRY_MAX_DELAY_SECONDS,
    },
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

function redisConfigOf(values: ConfigValues): RedisConfig | undefined {
  const topology = redisTopologyOf(values);
  if (topology === undefined) return undefined;
  return {
    topology,
    password: values.REDIS_PASSWORD,
    username: values.REDIS_USERNAME,
    tls: values.REDIS_TLS,
    keyPrefix: values.REDIS_KEY_PREFIX,
  };
}
