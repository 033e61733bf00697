// The user every scenario loads with, prepared through the real HTTP and mail flow, and the whole journey
// checked once before any load, with the SMTP capture of test/support.
import { HttpClient, type HttpAnswer } from '../test/support/http-client.ts';
import { logIn, readEmailedToken, registerVerifiedAccount } from '../test/support/journeys.ts';
import { startSmtpCapture, type SmtpCapture } from '../test/support/smtp-capture.ts';

export const benchPassword = 'bench passphrase, long enough 7Q!';
const mailTimeoutMilliseconds = 30_000;

export interface BenchMail {
  readonly port: number;
  /** Messages accepted so far. */
  readonly count: number;
  readonly capture: SmtpCapture;
  /** Keeps the mail to `email` while `work` runs; every other message is only counted. */
  whileAwaiting<T>(email: string, work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A capture that parses only the mail the bench waits for, so the hundreds of messages a second of the
 * register and reset scenarios cost the shared cores little besides the SMTP exchange.
 */
export async function startBenchMail(): Promise<BenchMail> {
  const awaited = new Set<string>();
  const capture = await startSmtpCapture({ keep: (recipient) => awaited.has(recipient) });
  return {
    port: capture.port,
    get count(): number {
      return capture.acceptedCount;
    },
    capture,
    async whileAwaiting(email, work) {
      const key = email.toLowerCase();
      awaited.add(key);
      try {
        return await work();
      } finally {
        awaited.delete(key);
      }
    },
    stop: () => capture.stop(),
  };
}

export interface BenchUser {
  readonly email: string;
  readonly password: string;
  /** A session token. */
  readonly token: string;
}

/** Registers, verifies through the emailed link and logs in. */
export async function prepareUser(url: string, mail: BenchMail, tag: string): Promise<BenchUser> {
  const email = `bench-${tag}@example.com`;
  const account = await mail.whileAwaiting(email, () =>
    registerVerifiedAccount(url, mail.capture, {
      email,
      password: benchPassword,
      emailTimeoutMilliseconds: mailTimeoutMilliseconds,
    }),
  );
  return { ...account, token: await logIn(url, account) };
}

/** Each request on a client of its own: the checks below say by header which session they use. */
function send(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  options: Parameters<HttpClient['request']>[2] = {},
): Promise<HttpAnswer> {
  return new HttpClient(url).request(method, path, options);
}

function expectStatus(answer: HttpAnswer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(`flow check: ${what}: expected ${status}, got ${answer.status} ${answer.text}`);
  }
}

/**
 * The whole journey once, before any load: a reset through the emailed link, a login with the new password,
 * who-am-I by bearer and by cookie, logout, and then the same token refused on the very next request.
 */
export async function checkFlow(url: string, mail: BenchMail, tag: string): Promise<void> {
  const { email, password, token } = await prepareUser(url, mail, tag);
  const resetToken = await mail.whileAwaiting(email, async () => {
    const requested = await send(url, 'POST', '/request-password-reset', { json: { email } });
    expectStatus(requested, 202, 'request-password-reset');
    return readEmailedToken(mail.capture, email, '/reset-password', mailTimeoutMilliseconds);
  });
  const newPassword = `${password} (new)`;
  const reset = await send(url, 'POST', '/reset-password', {
    json: { token: resetToken, new_password: newPassword },
  });
  expectStatus(reset, 200, 'reset-password');
  expectStatus(await send(url, 'GET', '/me', { bearer: token }), 401, 'a session after the password reset');
  const fresh = await logIn(url, { email, password: newPassword });
  expectStatus(await send(url, 'GET', '/me', { bearer: fresh }), 200, 'who-am-I by bearer');
  const byCookie = await send(url, 'GET', '/me', { headers: { cookie: `session_id=${fresh}` } });
  expectStatus(byCookie, 200, 'who-am-I by cookie');
  expectStatus(await send(url, 'POST', '/logout', { json: {}, bearer: fresh }), 200, 'logout');
  expectStatus(await send(url, 'GET', '/me', { bearer: fresh }), 401, 'the session after logout');
  const old = await send(url, 'POST', '/login', { json: { email, password } });
  expectStatus(old, 401, 'the old password after the reset');
}
