/**
 * Which real backends the suites run against. Real-backend suites run whenever TEST_DATABASE_URL /
 * TEST_REDIS_URL are set; under CI=true they are required, so a suite that cannot reach them fails
 * instead of skipping.
 */
export const isCi = process.env.CI === 'true';

export function testDatabaseUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (url === undefined || url === '') {
    if (isCi) throw new Error('CI=true requires TEST_DATABASE_URL (PostgreSQL) for the real-backend suites');
    return undefined;
  }
  return url;
}

export function testRedisUrl(): string | undefined {
  const url = process.env.TEST_REDIS_URL;
  if (url === undefined || url === '') {
    if (isCi) throw new Error('CI=true requires TEST_REDIS_URL for the real-backend suites');
    return undefined;
  }
  return url;
}

/** A unique suffix for this run's database and key prefix, so parallel runs never share state. */
export function uniqueRunId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
