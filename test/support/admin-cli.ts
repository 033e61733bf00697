import { spawn } from 'node:child_process';
import type { TestService } from './service.ts';

/**
 * Runs `npm run admin -- <args>` as its own process against the service's database and Redis, as an operator
 * without HTTP access would; `env` adds settings (WEBHOOK_ALLOW_PRIVATE for local receivers).
 */
export async function runAdminCli(
  service: TestService,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { config } = service;
  const child = spawn(process.execPath, ['src/cli/admin.ts', ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      SECRET_KEY: config.secretKey,
      DATA_DIR: config.dataDir,
      APP_BASE_URL: config.http.appBaseUrl.href,
      FROM_EMAIL: config.email.from,
      ...(config.database.url === undefined ? {} : { DATABASE_URL: config.database.url }),
      ...(config.redis?.topology.kind === 'url'
        ? { REDIS_URL: config.redis.topology.url, REDIS_KEY_PREFIX: config.redis.keyPrefix }
        : {}),
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
