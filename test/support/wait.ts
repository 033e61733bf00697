import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `probe` until it returns something truthy, and returns that; fails with `description` and the last
 * error after the deadline. Every wait in the process-level suites goes through here, so none is unbounded.
 */
export async function waitUntil<T>(
  description: string,
  probe: () => T | Promise<T>,
  options: { timeoutMilliseconds: number; intervalMilliseconds?: number },
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + options.timeoutMilliseconds;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `timed out after ${options.timeoutMilliseconds} ms waiting until ${description}${reason}`,
      );
    }
    await delay(options.intervalMilliseconds ?? 50);
  }
}
