import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { configVariables, type ConfigVariable, type ConfigVariableName } from '../../src/config-variables.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { defaultBudgets } from '../../src/security/rate-limit-budgets.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const quiet = { DATA_DIR: dataDir };
const productionSecret = 'p'.repeat(40);

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  return [];
}

describe('configuration defaults', () => {
  test('an empty environment gives the documented defaults, grouped', () => {
    const config = loadConfig(quiet);
    assert.equal(config.nodeEnv, 'development');
    assert.equal(config.isProduction, false);
    assert.equal(config.secretKey, undefined);
    assert.deepEqual(config.previousSecretKeys, []);
    assert.equal(config.dataDir, dataDir);
    assert.deepEqual(
      { ...config.http, appBaseUrl: config.http.appBaseUrl.href },
      {
        host: '127.0.0.1',
        port: 8000,
        appBaseUrl: 'http://localhost:8000/',
        trustProxy: false,
        corsOrigins: [],
        corsAllowCredentials: true,
        sessionCookieDomain: undefined,
      },
    );
    assert.deepEqual(config.pages, {
      productName: 'Latchkey',
      brandColor: '#2f5bd3',
      returnToOrigins: [],
      defaultLocale: 'en',
    });
    assert.deepEqual(config.sessions, {
      lifetimeMinutes: 30,
      refreshTokens: { expireDays: 30, idleDays: 14, reuseGraceSeconds: 10 },
    });
    assert.deepEqual(config.passwords, { minimumLength: 15 });
    assert.deepEqual(config.database, { url: undefined, poolSize: 10, statementTimeoutMilliseconds: 5000 });
    assert.deepEqual(config.cluster, { workers: 1 });
    assert.equal(config.redis, undefined);
    assert.deepEqual(config.email, {
      smtp: undefined,
      from: 'Latchkey <noreply@localhost>',
      templatesDir: undefined,
      dispatcher: { enabled: true, pollMilliseconds: 1000, maxDeferSeconds: 10, retryMaxDelaySeconds: 1800 },
    });
    assert.deepEqual(config.housekeeping, {
      intervalSeconds: 600,
      accountDeletionGraceDays: 7,
      auditRetentionDays: 90,
    });
    assert.deepEqual(config.worker, { healthPort: undefined });
    assert.deepEqual(config.metrics, { enabled: true });
    assert.deepEqual(config.rateLimit, {
      enabled: true,
      layers: { ip: true, account: true, token: true, recipient: true },
      budgets: defaultBudgets,
    });
    assert.deepEqual(config.logging, { level: 'info' });
  });

  test('loading writes nothing: without SECRET_KEY the data folder stays empty', () => {
    loadConfig(quiet);
    assert.deepEqual(readdirSync(dataDir), []);
  });

  test('every documented default is the value used when the variable is unset', () => {
    // SMTP_HOST set, so that the SMTP_* variables read only with it are read too. DATA_DIR unset: loading
    // writes nothing, so its default folder is safe.
    const base = { SMTP_HOST: 'smtp.example.com' };
    const unset = loadConfig(base);
    const variables = Object.entries(configVariables) as [ConfigVariableName, ConfigVariable<unknown>][];
    const withDefaults = variables.filter(([, variable]) => variable.defaultValue !== undefined);
    assert.ok(withDefaults.length > 20, 'most variables document a literal default');
    for (const [name, variable] of withDefaults) {
      assert.deepEqual(loadConfig({ ...base, [name]: variable.defaultValue ?? '' }), unset, name);
    }
  });

  test('production listens on every interface; SMTP on port 465 defaults to implicit TLS', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      SECRET_KEY: productionSecret,
      APP_BASE_URL: 'https://auth.example.com',
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '465',
    });
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.email.smtp?.security, 'tls');
    assert.equal(loadConfig({ ...quiet, SMTP_HOST: 'smtp.example.com' }).email.smtp?.security, 'starttls');
  });
});

describe('configuration values', () => {
  test('values are parsed into their groups; empty values count as unset', () => {
    const config = loadConfig({
      ...quiet,
      PORT: ' 9000 ',
      HOST: '',
      DATABASE_URL: 'postgres://db.example.com/latchkey',
      REDIS_URL: 'redis://cache.example.com:6379/0',
      REDIS_PASSWORD: 'hunter2',
      SMTP_HOST: 'smtp.example.com',
      SMTP_SECURE: 'SSL',
      SMTP_USERNAME: 'mailer',
      SMTP_PASSWORD: 'mail-password',
      RATE_LIMITS: 'account.login.minute=7/30, ip.login=40/60',
      RATE_LIMIT_PER_TOKEN: 'off',
      CORS_ORIGINS: 'https://app.example.com/, http://localhost:3000',
      TRUST_PROXY: '10.0.0.0/8, ::1',
      WORKER_HEALTH_PORT: '8001',
      LOG_LEVEL: 'WARN',
      SECRET_KEY_PREVIOUS: ' old-key-one ,old-key-two,',
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
    });
    assert.equal(config.http.port, 9000);
    assert.deepEqual(config.previousSecretKeys, ['old-key-one', 'old-key-two']);
    assert.equal(config.database.statementTimeoutMilliseconds, 0, '0 turns the limit off');
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.http.appBaseUrl.href, 'http://localhost:9000/');
    assert.deepEqual(config.http.corsOrigins, ['https://app.example.com', 'http://localhost:3000']);
    assert.equal(config.http.trustProxy, '10.0.0.0/8,::1');
    assert.equal(config.database.url, 'postgres://db.example.com/latchkey');
    assert.deepEqual(config.redis, {
      topology: { kind: 'url', url: 'redis://cache.example.com:6379/0' },
      password: 'hunter2',
      username: undefined,
      tls: false,
      keyPrefix: 'latchkey:',
    });
    assert.deepEqual(config.email.smtp, {
      host: 'smtp.example.com',
      port: 587,
      security: 'tls',
      username: 'mailer',
      password: 'mail-password',
      poolSize: 4,
      sendTimeoutSeconds: 60,
    });
    assert.deepEqual(config.rateLimit.budgets['account.login.minute'], { points: 7, durationSeconds: 30 });
    assert.deepEqual(config.rateLimit.budgets['ip.login'], { points: 40, durationSeconds: 60 });
    assert.deepEqual(config.rateLimit.budgets['account.login.hour'], defaultBudgets['account.login.hour']);
    assert.equal(config.rateLimit.layers.token, false);
    assert.equal(config.worker.healthPort, 8001);
    assert.equal(config.logging.level, 'warn');
    assert.equal(loadConfig({ ...quiet, TRUST_PROXY: '2' }).http.trustProxy, 2);
  });

  test('the result is frozen all the way down', () => {
    const config = loadConfig({ ...quiet, SMTP_HOST: 'smtp.example.com' });
    assert.throws(() => Object.assign(config, { nodeEnv: 'production' }), TypeError);
    assert.throws(() => Object.assign(config.http, { port: 1 }), TypeError);
    assert.throws(() => Object.assign(config.email.dispatcher, { enabled: false }), TypeError);
    assert.throws(() => Object.assign(config.rateLimit.budgets, { 'ip.login': { points: 1 } }), TypeError);
    assert.throws(() => (config.http.corsOrigins as string[]).push('https://evil.example'), TypeError);
  });

  test('EMAIL_TEMPLATES_DIR is a folder relative to the working directory; loading does not read it', () => {
    const config = loadConfig({ ...quiet, EMAIL_TEMPLATES_DIR: 'no-such-templates' });
    assert.equal(config.email.templatesDir, join(process.cwd(), 'no-such-templates'));
  });

  test('the SMTP_* variables are read only when SMTP_HOST is set', () => {
    assert.deepEqual(
      problemsOf({ ...quiet, SMTP_PORT: 'abc', SMTP_SECURE: 'maybe', SMTP_USERNAME: 'x' }),
      [],
    );
  });
});

describe('configuration problems', () => {
  test('every problem is listed at once, in the words an operator reads', () => {
    const problems = problemsOf({
      ...quiet,
      PORT: 'not-a-port',
      APP_BASE_URL: 'ftp://auth.example.com/path',
      DATABASE_URL: 'mysql://db',
      REDIS_URL: 'not a url',
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '70000',
      SMTP_SECURE: 'sometimes',
      SMTP_USERNAME: 'mailer',
      FROM_EMAIL: 'Latchkey\nBcc: victim@example.com',
      EMAIL_DISPATCHER: 'maybe',
      TRUST_PROXY: 'true',
      RATE_LIMITS: 'login=5/60',
      CORS_ORIGINS: 'https://app.example.com/path',
      LOG_LEVEL: 'loud',
      PASSWORD_MIN_LENGTH: '7',
    });
    assert.deepEqual(problems, [
      'PORT must be an integer from 0 to 65535 (got "not-a-port")',
      'APP_BASE_URL must use http: or https: (got "ftp:")',
      'APP_BASE_URL must be an origin only, like https://auth.example.com',
      'TRUST_PROXY=true would believe any client; give a hop count or the proxy addresses/CIDRs',
      'CORS_ORIGINS entry "https://app.example.com/path" must be an origin like https://app.example.com',
      'PASSWORD_MIN_LENGTH must be an integer from 8 to 128 (got "7")',
      'DATABASE_URL must use postgres: or postgresql: (got "mysql:")',
      'REDIS_URL is not a valid URL',
      'SMTP_PORT must be an integer from 1 to 65535 (got "70000")',
      'SMTP_SECURE must be tls, starttls or none (got "sometimes")',
      'FROM_EMAIL must be one line',
      'EMAIL_DISPATCHER must be true or false (got "maybe")',
      'RATE_LIMITS entry "login=5/60" must be NAME=POINTS/SECONDS with a known name (see docs/security.md)',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      'SMTP_USERNAME and SMTP_PASSWORD must be set together',
    ]);
  });

  test('the error message lists every problem, one per line', () => {
    assert.throws(
      () => loadConfig({ ...quiet, PORT: 'x', WORKERS: '0' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          'invalid configuration:\n' +
            '  - PORT must be an integer from 0 to 65535 (got "x")\n' +
            '  - WORKERS must be an integer from 1 to 256 (got "0")',
    );
  });
});

describe('configuration rules across variables', () => {
  test('production requires APP_BASE_URL and a real SECRET_KEY', () => {
    assert.deepEqual(problemsOf({ NODE_ENV: 'production' }), [
      'APP_BASE_URL is required in production: it is the origin used in emailed links',
      'SECRET_KEY is required in production (at least 32 random bytes)',
    ]);
    const production = { NODE_ENV: 'production', APP_BASE_URL: 'https://auth.example.com' };
    assert.deepEqual(problemsOf({ ...production, SECRET_KEY: 'ChangeMe' }), [
      'SECRET_KEY is a published placeholder; generate one with `openssl rand -hex 32`',
    ]);
    assert.deepEqual(problemsOf({ ...production, SECRET_KEY: 'x'.repeat(31) }), [
      'SECRET_KEY must be at least 32 bytes in production',
    ]);
    assert.deepEqual(problemsOf({ ...production, SECRET_KEY: productionSecret }), []);
    assert.deepEqual(
      problemsOf({ NODE_ENV: 'production', APP_BASE_URL: 'auth.example.com', SECRET_KEY: productionSecret }),
      ['APP_BASE_URL is not a valid URL'],
      'a set but broken APP_BASE_URL is one problem',
    );
    assert.deepEqual(problemsOf({ ...quiet, SECRET_KEY: 'short' }), [], 'outside production any key will do');
    assert.deepEqual(
      problemsOf({
        ...production,
        SECRET_KEY: productionSecret,
        SECRET_KEY_PREVIOUS: `${'p'.repeat(40)},your-secret-key-change-this-in-production,short`,
      }),
      [
        'SECRET_KEY_PREVIOUS holds 2 key(s) that are published placeholders or shorter than 32 bytes; production never sealed anything under such a key',
      ],
      'a placeholder or short previous key is refused in production, a strong one accepted',
    );
    assert.deepEqual(
      problemsOf({ ...production, SECRET_KEY: productionSecret, SECRET_KEY_PREVIOUS: 'p'.repeat(40) }),
      [],
    );
  });

  test('SMTP_USERNAME and SMTP_PASSWORD go together', () => {
    const smtp = { ...quiet, SMTP_HOST: 'smtp.example.com' };
    assert.deepEqual(problemsOf({ ...smtp, SMTP_PASSWORD: 'p' }), [
      'SMTP_USERNAME and SMTP_PASSWORD must be set together',
    ]);
    assert.deepEqual(problemsOf({ ...smtp, SMTP_USERNAME: 'u', SMTP_PASSWORD: 'p' }), []);
  });

  test('CORS_ORIGINS=* only without credentials', () => {
    assert.deepEqual(problemsOf({ ...quiet, CORS_ORIGINS: '*' }), [
      'CORS_ORIGINS=* cannot be combined with credentials: list the origins, or set CORS_ALLOW_CREDENTIALS=false',
    ]);
    assert.deepEqual(problemsOf({ ...quiet, CORS_ORIGINS: '*', CORS_ALLOW_CREDENTIALS: 'false' }), []);
  });

  test('WORKERS above 1 needs DATABASE_URL, and REDIS_URL while rate limits are on', () => {
    assert.deepEqual(problemsOf({ ...quiet, WORKERS: '2' }), [
      'WORKERS above 1 needs DATABASE_URL: the embedded database serves one process',
    ]);
    const database = { ...quiet, WORKERS: '2', DATABASE_URL: 'postgres://db.example.com/latchkey' };
    assert.deepEqual(problemsOf(database), [
      'WORKERS above 1 needs REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS): rate limits kept in process memory would multiply',
    ]);
    assert.deepEqual(problemsOf({ ...database, RATE_LIMIT_ENABLED: 'false' }), []);
    assert.deepEqual(problemsOf({ ...database, REDIS_URL: 'redis://cache.example.com' }), []);
    assert.deepEqual(problemsOf({ ...database, REDIS_CLUSTER_NODES: 'cache-1:6379' }), []);
  });

  test('Redis is reached one way: a URL, a cluster, or sentinels with the name of the primary', () => {
    assert.deepEqual(
      problemsOf({ ...quiet, REDIS_URL: 'redis://cache.example.com', REDIS_CLUSTER_NODES: 'cache-1:6379' }),
      [
        'Redis is reached one way only: set one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS (got REDIS_URL, REDIS_CLUSTER_NODES)',
      ],
    );
    assert.deepEqual(problemsOf({ ...quiet, REDIS_SENTINELS: 'sentinel-1:26379' }), [
      'REDIS_SENTINELS needs REDIS_SENTINEL_NAME: the name the sentinels monitor the primary under',
    ]);
    assert.deepEqual(problemsOf({ ...quiet, REDIS_SENTINEL_NAME: 'mymaster' }), [
      'REDIS_SENTINEL_NAME is set without REDIS_SENTINELS: list the sentinels to ask',
    ]);
    assert.deepEqual(problemsOf({ ...quiet, REDIS_URL: 'redis://cache.example.com', REDIS_TLS: 'true' }), [
      'REDIS_TLS and REDIS_USERNAME are for REDIS_CLUSTER_NODES / REDIS_SENTINELS: with REDIS_URL write rediss://user@host instead',
    ]);
    assert.deepEqual(problemsOf({ ...quiet, REDIS_CLUSTER_NODES: 'cache-1, cache-2:99999' }), [
      'REDIS_CLUSTER_NODES entry "cache-1" must be host:port, like redis-1:6379',
      'REDIS_CLUSTER_NODES entry "cache-2:99999" must be host:port, like redis-1:6379',
      'REDIS_CLUSTER_NODES must list at least one host:port',
    ]);
  });

  test('a cluster and sentinels are read with their nodes, credentials and TLS', () => {
    const cluster = loadConfig({
      ...quiet,
      REDIS_CLUSTER_NODES: 'cache-1:7000, [::1]:7001',
      REDIS_USERNAME: 'latchkey',
      REDIS_PASSWORD: 'hunter2',
      REDIS_TLS: 'true',
    });
    assert.deepEqual(cluster.redis, {
      topology: {
        kind: 'cluster',
        nodes: [
          { host: 'cache-1', port: 7000 },
          { host: '::1', port: 7001 },
        ],
      },
      password: 'hunter2',
      username: 'latchkey',
      tls: true,
      keyPrefix: 'latchkey:',
    });
    const sentinel = loadConfig({
      ...quiet,
      REDIS_SENTINELS: 'sentinel-1:26379,sentinel-2:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    assert.deepEqual(sentinel.redis?.topology, {
      kind: 'sentinel',
      sentinels: [
        { host: 'sentinel-1', port: 26379 },
        { host: 'sentinel-2', port: 26379 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sentinel-secret',
    });
  });
});

describe('the hosted pages settings', () => {
  test('PRODUCT_NAME, BRAND_COLOR, RETURN_TO_ORIGINS and DEFAULT_LOCALE are read into config.pages', () => {
    const config = loadConfig({
      ...quiet,
      PRODUCT_NAME: 'Acme Cloud',
      BRAND_COLOR: '#6D28D9',
      RETURN_TO_ORIGINS: 'https://app.example.com, http://localhost:3000/',
      DEFAULT_LOCALE: 'DE',
    });
    assert.deepEqual(config.pages, {
      productName: 'Acme Cloud',
      brandColor: '#6d28d9',
      returnToOrigins: ['https://app.example.com', 'http://localhost:3000'],
      defaultLocale: 'de',
    });
  });

  test('a DEFAULT_LOCALE the pages and emails do not speak stops start-up, naming the choices', () => {
    assert.throws(
      () => loadConfig({ ...quiet, DEFAULT_LOCALE: 'fr' }),
      /DEFAULT_LOCALE must be one of en, de/,
    );
  });

  test('a brand colour without AA contrast against white stops start-up with its ratio', () => {
    assert.throws(
      () => loadConfig({ ...quiet, BRAND_COLOR: '#ffcc00' }),
      /BRAND_COLOR #ffcc00 has a contrast of 1\.\d+:1/,
    );
    assert.throws(() => loadConfig({ ...quiet, BRAND_COLOR: '#777777' }), /contrast of 4\.48:1/);
    assert.throws(() => loadConfig({ ...quiet, BRAND_COLOR: 'purple' }), /BRAND_COLOR must be #rrggbb/);
    assert.equal(loadConfig({ ...quiet, BRAND_COLOR: '#767676' }).pages.brandColor, '#767676');
  });

  test('RETURN_TO_ORIGINS takes origins only', () => {
    assert.throws(
      () => loadConfig({ ...quiet, RETURN_TO_ORIGINS: 'https://app.example.com/path, javascript:alert(1)' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 2);
        return true;
      },
    );
  });

  test('SESSION_COOKIE_DOMAIN must cover the host of APP_BASE_URL', () => {
    const base = { ...quiet, APP_BASE_URL: 'https://auth.example.com' };
    assert.equal(
      loadConfig({ ...base, SESSION_COOKIE_DOMAIN: 'example.com' }).http.sessionCookieDomain,
      'example.com',
    );
    assert.equal(
      loadConfig({ ...base, SESSION_COOKIE_DOMAIN: '.Example.com' }).http.sessionCookieDomain,
      'example.com',
    );
    assert.throws(
      () => loadConfig({ ...base, SESSION_COOKIE_DOMAIN: 'other.com' }),
      /does not cover the host/,
    );
    assert.throws(
      () => loadConfig({ ...base, SESSION_COOKIE_DOMAIN: 'ample.com' }),
      /does not cover the host/,
    );
    assert.throws(
      () => loadConfig({ ...base, SESSION_COOKIE_DOMAIN: 'exa mple.com' }),
      /must be a domain name/,
    );
  });
});

describe('webhook configuration', () => {
  const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
  const older = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

  test('endpoints and several secrets (space- or comma-separated) are read, private targets refused by default', () => {
    const config = loadConfig({
      ...quiet,
      WEBHOOK_URLS: 'https://hooks.example.com/latchkey, http://10.0.0.5/in',
      WEBHOOK_SECRET: `${secret} ${older}`,
    });
    assert.deepEqual(config.webhooks, {
      urls: ['https://hooks.example.com/latchkey', 'http://10.0.0.5/in'],
      secrets: [secret, older],
      allowPrivateTargets: false,
      timeoutSeconds: 10,
      retryMaxDelaySeconds: 3600,
    });
    assert.deepEqual(loadConfig({ ...quiet, WEBHOOK_SECRET: `${secret},${older}` }).webhooks.secrets, [
      secret,
      older,
    ]);
  });

  test('a secret that is not whsec_ + base64 of at least 24 bytes, a URL that is not http(s), or URLs without a secret stop start-up', () => {
    const short = `whsec_${Buffer.alloc(16, 1).toString('base64')}`;
    assert.match(problemsOf({ ...quiet, WEBHOOK_SECRET: short }).join('\n'), /at least 24 random bytes/);
    assert.match(problemsOf({ ...quiet, WEBHOOK_SECRET: 'not-a-secret' }).join('\n'), /starts with whsec_/);
    assert.match(problemsOf({ ...quiet, WEBHOOK_SECRET: 'whsec_%%%%' }).join('\n'), /base64/);
    assert.match(
      problemsOf({ ...quiet, WEBHOOK_URLS: 'ftp://hooks.example.com', WEBHOOK_SECRET: secret }).join('\n'),
      /WEBHOOK_URLS must use https: or http:/,
    );
    assert.match(
      problemsOf({ ...quiet, WEBHOOK_URLS: 'https://hooks.example.com' }).join('\n'),
      /WEBHOOK_URLS needs WEBHOOK_SECRET/,
    );
  });
});
