import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  readonly host: string;
  readonly port: number;
  readonly appBaseUrl: URL;
  readonly secretKey: string;
  /** The tutorial's name; it is the lifetime of a login session (bearer token and cookie alike). */
  readonly accessTokenExpireMinutes: number;
  /** Shortest acceptable new password, in code points after NFKC (NIST 800-63B-4: 15 for a sole factor). */
  readonly passwordMinimumLength: number;
  /** Unset: embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  /** Unset: sessions in the database, rate limits in the process. */
  readonly redisUrl: string | undefined;
  readonly redisPassword: string | undefined;
  readonly redisKeyPrefix: string;
  /** Unset: emails are printed to the console. */
  readonly smtp: SmtpConfig | undefined;
  readonly fromEmail: string;
  readonly dataDir: string;
  readonly logLevel: string;
  /** Run the outbox dispatcher inside the API process. */
  readonly emailDispatcherEnabled: boolean;
  readonly emailDispatchPollMilliseconds: number;
  /** While every core hashes passwords and more wait, mail from this process waits up to this long; 0: never. */
  readonly emailMaxDeferSeconds: number;
  /** Cap of the growing delay between two attempts at one email. */
  readonly emailRetryMaxDelaySeconds: number;
  /** How often expired tokens, sessions and old sent mail are deleted; 0: never, in this process. */
  readonly cleanupIntervalSeconds: number;
  /** Serve Prometheus metrics at /metrics. */
  readonly metricsEnabled: boolean;
  /** `npm run worker` only: port of its /health/live, /health/ready and /metrics; unset: no HTTP at all. */
  readonly workerHealthPort: number | undefined;
  /** Master switch; each layer can also be switched off alone. */
  readonly rateLimitEnabled: boolean;
  readonly rateLimitLayers: Readonly<Record<RateLimitLayer, boolean>>;
  /** Every budget, the defaults with RATE_LIMITS applied. */
  readonly rateLimitBudgets: Readonly<Record<BudgetName, Budget>>;
  /** Whether X-Forwarded-For is believed: false, a hop count, or a list of proxy addresses/CIDRs. */
  readonly trustProxy: boolean | number | string;
  /** Origins allowed to call the API from a browser (CORS), and trusted for cookie-authenticated changes. */
  readonly corsOrigins: readonly string[];
  readonly corsAllowCredentials: boolean;
  /** WORKERS: HTTP processes (node:cluster workers) sharing the port; 1 = this process serves alone. */
  readonly clusterWorkers: number;
}

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
const logLevels = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads the environment once. Every problem is collected so a bad deployment learns all of them at once.
 * `env` defaults to process.env merged with a `.env` file in the working directory (process env wins).
 */
export function loadConfig(env: NodeJS.ProcessEnv = readEnvironment()): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const url = (name: string, protocols: readonly string[]): string | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const nodeEnv = text('NODE_ENV') ?? 'development';
  const isProduction = nodeEnv === 'production';
  const host = text('HOST') ?? (isProduction ? '0.0.0.0' : '127.0.0.1');
  const port = integer('PORT', 8000, 0, 65535);
  const dataDir = resolve(text('DATA_DIR') ?? 'data');

  let appBaseUrl = new URL(`http://localhost:${port}`);
  const baseUrlText = url('APP_BASE_URL', ['http:', 'https:']);
  if (baseUrlText !== undefined) {
    try {
      appBaseUrl = new URL(baseUrlText);
      if (appBaseUrl.pathname !== '/' || appBaseUrl.search !== '' || appBaseUrl.hash !== '') {
        problems.push('APP_BASE_URL must be an origin only, like https://auth.example.com');
      }
    } catch {
      // already reported
    }
  } else if (isProduction) {
    problems.push('APP_BASE_URL is required in production: it is the origin used in emailed links');
  }

  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);

  const smtpHost = text('SMTP_HOST');
  let smtp: SmtpConfig | undefined;
  if (smtpHost !== undefined) {
    const smtpPort = integer('SMTP_PORT', 587, 1, 65535);
    const securityRaw = (text('SMTP_SECURE') ?? (smtpPort === 465 ? 'tls' : 'starttls')).toLowerCase();
    const securityAliases: Record<string, SmtpSecurity> = {
      tls: 'tls',
      true: 'tls',
      ssl: 'tls',
      starttls: 'starttls',
      none: 'none',
      false: 'none',
      plain: 'none',
    };
    const security = securityAliases[securityRaw];
    if (security === undefined)
      problems.push(`SMTP_SECURE must be tls, starttls or none (got "${securityRaw}")`);
    const username = text('SMTP_USERNAME');
    const password = text('SMTP_PASSWORD');
    if ((username === undefined) !== (password === undefined)) {
      problems.push('SMTP_USERNAME and SMTP_PASSWORD must be set together');
    }
    smtp = {
      host: smtpHost,
      port: smtpPort,
      security: security ?? 'starttls',
      username,
      password,
      poolSize: integer('SMTP_POOL_SIZE', 4, 1, 100),
      sendTimeoutSeconds: integer('SMTP_SEND_TIMEOUT_SECONDS', 60, 1, 600),
    };
  }

  const fromEmail = text('FROM_EMAIL') ?? 'Latchkey <noreply@localhost>';
  if (/[\r\n]/.test(fromEmail)) problems.push('FROM_EMAIL must be one line');

  let secretKey = text('SECRET_KEY');
  if (secretKey === undefined) {
    if (isProduction) problems.push('SECRET_KEY is required in production (at least 32 random bytes)');
    else secretKey = readOrCreateDevelopmentSecret(dataDir);
  } else if (isProduction) {
    if (knownPlaceholderSecrets.has(secretKey.toLowerCase())) {
      problems.push('SECRET_KEY is a published placeholder; generate one with `openssl rand -hex 32`');
    } else if (Buffer.byteLength(secretKey) < minimumSecretKeyBytes) {
      problems.push(`SECRET_KEY must be at least ${minimumSecretKeyBytes} bytes in production`);
    }
  }

  const logLevel = (text('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!logLevels.has(logLevel)) problems.push(`LOG_LEVEL must be one of ${[...logLevels].join(', ')}`);

  const trustProxyRaw = text('TRUST_PROXY');
  let trustProxy: boolean | number | string = false;
  if (trustProxyRaw !== undefined) {
    const lowered = trustProxyRaw.toLowerCase();
    if (/^\d+$/.test(trustProxyRaw)) trustProxy = Number(trustProxyRaw);
    else if (['false', 'off', 'no', '0'].includes(lowered)) trustProxy = false;
    else if (lowered === 'true') {
      problems.push(
        'TRUST_PROXY=true would believe any client; give a hop count or the proxy addresses/CIDRs',
      );
    } else {
      const entries = trustProxyRaw.split(',').map((entry) => entry.trim());
      const addressPattern = /^(?:[0-9.]+|[0-9a-f:]+)(?:\/\d{1,3})?$|^(?:loopback|linklocal|uniquelocal)$/i;
      const bad = entries.filter((entry) => !addressPattern.test(entry));
      if (bad.length > 0)
        problems.push(`TRUST_PROXY has entries that are not addresses or CIDRs: ${bad.join(', ')}`);
      trustProxy = entries.join(',');
    }
  }

  const rateLimitBudgets: Record<BudgetName, Budget> = { ...defaultBudgets };
  for (const entry of (text('RATE_LIMITS') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([a-z_.]+)=(\d+)\/(\d+)$/.exec(entry);
    if (match === null || !isBudgetName(match[1] ?? '') || Number(match[2]) < 1 || Number(match[3]) < 1) {
      problems.push(
        `RATE_LIMITS entry "${entry}" must be NAME=POINTS/SECONDS with a known name (see docs/security.md)`,
      );
      continue;
    }
    rateLimitBudgets[match[1] as BudgetName] = {
      points: Number(match[2]),
      durationSeconds: Number(match[3]),
    };
  }

  const corsOrigins: string[] = [];
  for (const origin of (text('CORS_ORIGINS') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    if (origin === '*') {
      corsOrigins.push(origin);
      continue;
    }
    try {
      const parsed = new URL(origin);
      if (parsed.origin !== origin.replace(/\/$/, '') || !['http:', 'https:'].includes(parsed.protocol))
        throw new Error();
      corsOrigins.push(parsed.origin);
    } catch {
      problems.push(`CORS_ORIGINS entry "${origin}" must be an origin like https://app.example.com`);
    }
  }
  const corsAllowCredentials = flag('CORS_ALLOW_CREDENTIALS', true);
  if (corsOrigins.includes('*') && corsAllowCredentials) {
    problems.push(
      'CORS_ORIGINS=* cannot be combined with credentials: list the origins, or set CORS_ALLOW_CREDENTIALS=false',
    );
  }

  // One process by default: it already hashes on every core, and on 2 cores WORKERS=2 gained little while it
  // tripled the memory (docs/decisions/0008-one-process-by-default.md). Several processes need shared state:
  // the embedded database belongs to one process, and rate limits kept in process memory would multiply.
  const clusterWorkers = integer('WORKERS', 1, 1, 256);
  if (clusterWorkers > 1 && databaseUrl === undefined) {
    problems.push('WORKERS above 1 needs DATABASE_URL: the embedded database serves one process');
  } else if (clusterWorkers > 1 && redisUrl === undefined && flag('RATE_LIMIT_ENABLED', true)) {
    problems.push('WORKERS above 1 needs REDIS_URL: rate limits kept in process memory would multiply');
  }

  const config: Config = {
    nodeEnv,
    isProduction,
    host,
    port,
    appBaseUrl,
    secretKey: secretKey ?? '',
    accessTokenExpireMinutes: integer('ACCESS_TOKEN_EXPIRE_MINUTES', 30, 1, 60 * 24 * 90),
    passwordMinimumLength: integer(
      'PASSWORD_MIN_LENGTH',
      defaultPasswordMinimumLength,
      lowestPasswordMinimumLength,
      passwordMaximumLength,
    ),
    databaseUrl,
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10, 1, 200),
    redisUrl,
    redisPassword: text('REDIS_PASSWORD'),
    redisKeyPrefix: text('REDIS_KEY_PREFIX') ?? 'latchkey:',
    smtp,
    fromEmail,
    dataDir,
    logLevel,
    emailDispatcherEnabled: flag('EMAIL_DISPATCHER', true),
    emailDispatchPollMilliseconds: integer('EMAIL_DISPATCH_POLL_MS', 1000, 50, 60_000),
    emailMaxDeferSeconds: integer('EMAIL_MAX_DEFER_SECONDS', 10, 0, 300),
    emailRetryMaxDelaySeconds: integer('EMAIL_RETRY_MAX_DELAY_SECONDS', 30 * 60, 1, 24 * 60 * 60),
    cleanupIntervalSeconds: integer('CLEANUP_INTERVAL_SECONDS', 10 * 60, 0, 24 * 60 * 60),
    metricsEnabled: flag('METRICS_ENABLED', true),
    workerHealthPort:
      text('WORKER_HEALTH_PORT') === undefined ? undefined : integer('WORKER_HEALTH_PORT', 0, 0, 65535),
    rateLimitEnabled: flag('RATE_LIMIT_ENABLED', true),
    rateLimitLayers: {
      ip: flag('RATE_LIMIT_PER_IP', true),
      account: flag('RATE_LIMIT_PER_ACCOUNT', true),
      token: flag('RATE_LIMIT_PER_TOKEN', true),
      recipient: flag('RATE_LIMIT_PER_RECIPIENT', true),
    },
    rateLimitBudgets,
    trustProxy,
    corsOrigins,
    corsAllowCredentials,
    clusterWorkers,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

function readEnvironment(): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = {};
  if (existsSync('.env')) {
    // process.loadEnvFile would write into process.env; parse instead so process env keeps precedence.
    Object.assign(merged, parseEnv(readFileSync('.env', 'utf8')));
  }
  return { ...merged, ...process.env };
}

/** Development only: a random secret kept in the data folder so restarts keep pending emails readable. */
function readOrCreateDevelopmentSecret(dataDir: string): string {
  const path = resolve(dataDir, 'secret-key');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(path, secret, { mode: 0o600 });
  return secret;
}
