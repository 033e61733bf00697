import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HttpClient } from './http-client.ts';
import type { CapturedEmail, SmtpCapture } from './smtp-capture.ts';
import { uniqueRunId } from './backends.ts';

/** A password every policy in force accepts: long, random, unrelated to the address. */
export function generatePassword(): string {
  return `horse-${randomBytes(12).toString('base64url')}-staple`;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${uniqueRunId()}@example.com`;
}

/** The `token` query parameter of the first link in the newest email to `to` that matches `path`. */
export async function readEmailedToken(
  smtp: SmtpCapture,
  to: string,
  path: '/verify-email' | '/reset-password',
  timeoutMilliseconds = 10_000,
): Promise<string> {
  const email = await smtp.waitForEmail(
    (candidate) =>
      candidate.to.toLowerCase() === to.toLowerCase() &&
      candidate.links.some((link) => new URL(link).pathname === path && link.includes('token=')),
    timeoutMilliseconds,
  );
  const link = email.links.find((candidate) => new URL(candidate).pathname === path);
  const token = link === undefined ? null : new URL(link).searchParams.get('token');
  if (token === null) throw new Error(`no ${path} token in the email to ${to}`);
  return token;
}

/** The `token` query parameter of the email's first link to `path`; fails the test when there is none. */
export function tokenInEmail(email: CapturedEmail, path: string): string {
  const link = email.links.find((candidate) => new URL(candidate).pathname === path);
  const token = link === undefined ? null : new URL(link).searchParams.get('token');
  if (token === null) throw new Error(`no ${path} token in the email to ${email.to}`);
  return token;
}

/**
 * Registers an address (a fresh one unless `email` is given) through `baseUrl`, confirms it with the emailed
 * link, and returns its credentials.
 */
export async function registerVerifiedAccount(
  baseUrl: string,
  smtp: SmtpCapture,
  options: {
    verifyThrough?: string;
    email?: string;
    password?: string;
    emailTimeoutMilliseconds?: number;
  } = {},
): Promise<{ email: string; password: string }> {
  const email = options.email ?? uniqueEmail('account');
  const password = options.password ?? generatePassword();
  const client = new HttpClient(baseUrl);
  const registered = await client.post('/register', { json: { email, password } });
  if (registered.status !== 200)
    throw new Error(`register answered ${registered.status}: ${registered.text}`);
  const token = await readEmailedToken(smtp, email, '/verify-email', options.emailTimeoutMilliseconds);
  const verifier = new HttpClient(options.verifyThrough ?? baseUrl);
  const verified = await verifier.post('/verify-email', { json: { token } });
  if (verified.status !== 200) throw new Error(`verify answered ${verified.status}: ${verified.text}`);
  return { email, password };
}

/** Logs in and returns the session token. */
export async function logIn(baseUrl: string, account: { email: string; password: string }): Promise<string> {
  const answer = await new HttpClient(baseUrl).post('/login', { json: account });
  if (answer.status !== 200) throw new Error(`login answered ${answer.status}: ${answer.text}`);
  return answer.json.access_token as string;
}

/** Runs `tasks` with at most `concurrency` in flight; results in task order. */
export async function runWithConcurrency<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}

/**
 * Sends `count` resets of one token at once, each with its own new password (`racing password <index>`), and
 * checks that exactly one wins and every other is refused (400); returns the winner's new password.
 */
export async function raceOneResetToken(baseUrl: string, token: string, count: number): Promise<string> {
  const client = new HttpClient(baseUrl);
  const answers = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      client.post('/reset-password', { json: { token, new_password: `racing password ${index}` } }),
    ),
  );
  const statuses = answers.map((answer) => answer.status).sort();
  assert.equal(statuses.filter((status) => status === 200).length, 1, `statuses: ${statuses.join(',')}`);
  assert.ok(
    statuses.every((status) => status === 200 || status === 400),
    `statuses: ${statuses.join(',')}`,
  );
  return `racing password ${answers.findIndex((answer) => answer.status === 200)}`;
}
