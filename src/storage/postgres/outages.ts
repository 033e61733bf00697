import { DependencyUnavailableError } from '../../flows/errors.ts';

/** Socket failures of the connection to the server: the server is down, restarting or unreachable. */
const unreachableSocketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What node-postgres says when a connection breaks or the pool cannot get one in time. */
const brokenConnectionMessage =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Client was closed|Query read timeout/i;

/** query_canceled: DATABASE_STATEMENT_TIMEOUT_MS ran out (a statement stuck on a lock or running too long). */
const statementTimeoutCode = '57014';

/**
 * A failure that says the database cannot be reached (the request may succeed later), not that the statement
 * is wrong: socket errors, PostgreSQL's operator-intervention class 57P (admin shutdown, crash shutdown, cannot
 * connect now), connection exceptions (class 08), too many connections (53300), a statement cut by the statement
 * timeout (57014, or node-postgres' client-side "Query read timeout"), or node-postgres' broken connection
 * messages. drizzle wraps driver errors (DrizzleQueryError), so the causes are searched too.
 */
export function isPostgresOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    if (typeof current !== 'object') return false;
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') {
      if (unreachableSocketCodes.has(code)) return true;
      if (
        code.startsWith('57P') ||
        code.startsWith('08') ||
        code === '53300' ||
        code === statementTimeoutCode
      )
        return true;
    }
    if (typeof message === 'string' && brokenConnectionMessage.test(message)) return true;
    current = cause;
  }
  return false;
}

/** `error` as the ports promise it: a DependencyUnavailableError when the database is unreachable. */
export function translatePostgresOutage(error: unknown): unknown {
  if (error instanceof DependencyUnavailableError || !isPostgresOutage(error)) return error;
  return new DependencyUnavailableError('postgres', error);
}

/**
 * Makes every async method of an adapter class reject with DependencyUnavailableError when the database is
 * unreachable, whatever the driver said (other failures pass unchanged). Done once per class, on its
 * prototype: one `catch` per call (no extra async frame), and the methods keep their own `this` (and its
 * private fields).
 */
export function translatePostgresOutages(prototype: object): void {
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (name === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    const method: unknown = descriptor?.value;
    if (typeof method !== 'function' || method.constructor.name !== 'AsyncFunction') continue;
    Object.defineProperty(prototype, name, {
      ...descriptor,
      value: function (this: unknown, ...args: unknown[]): Promise<unknown> {
        return (method as (...args: unknown[]) => Promise<unknown>)
          .apply(this, args)
          .catch(rethrowTranslated);
      },
    });
  }
}

function rethrowTranslated(error: unknown): never {
  throw translatePostgresOutage(error);
}
