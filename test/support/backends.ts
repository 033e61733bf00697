/**
 * Which real backends the suites run against. Real-backend suites run whenever TEST_DATABASE_URL /
 * TEST_REDIS_URL are set; under CI=true they are required, so a suite that cannot reach them fails
 * instead of skipping.
 */
export const isCi = process.env.CI === 'true';

export function testDatabaseUrl(): string | undefined {
  return backendUrl('TEST_DATABASE_URL', 'TEST_DATABASE_URL (PostgreSQL)');
}

export function testRedisUrl(): string | undefined {
  return backendUrl('TEST_REDIS_URL', 'TEST_REDIS_URL');
}

/** The variable's value; unset or empty is undefined, except under CI=true, where it is an error. */
function backendUrl(variable: string, description: string): string | undefined {
  const url = process.env[variable];
  if (url === undefined || url === '') {
    if (isCi) throw new Error(`CI=true requires ${description} for the real-backend suites`);
    return undefined;
  }
  return url;
}

/** A unique suffix for this run's database and key prefix, so parallel runs never share state. */
export function uniqueRunId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
