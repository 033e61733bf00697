import { drizzle, type NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';

/** A drizzle handle: the pool, or one transaction on it. */
export type Db = PgDatabase<NodePgQueryResultHKT>;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly pool: pg.Pool;
  readonly db: Db;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; without it, embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly poolSize: number;
  /** Called for errors of idle pooled connections (a restarted server); without a handler they crash the process. */
  readonly onPoolError?: (error: Error) => void;
}

const pgliteSocketPort = 5432;
const pgliteStartTimeoutMilliseconds = 60_000;
/** The pool's one connection, plus one for `npm run migrate` or a second look while the service runs. */
const embeddedConnectionLimit = 3;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    watchPoolErrors(pool, options.onPoolError);
    return { kind: 'postgres', pool, db: drizzle({ client: pool }), close: () => pool.end() };
  }
  return openEmbeddedDatabase(options);
}

/**
 * The pool reports errors of idle connections (to `onPoolError`), but a connection checked out for a
 * transaction (or for the migrations) that the server drops emits 'error' on its client, where nobody listens:
 * an unhandled 'error' event, and a database restart kills the process. So every client gets a listener for
 * its whole life. It has nothing to do: the statement in progress (or the next one) fails and is answered
 * 503, and the pool discards the broken client when it is released.
 */
function watchPoolErrors(pool: pg.Pool, onPoolError: ((error: Error) => void) | undefined): void {
  pool.on('error', (error) => onPoolError?.(error));
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
}

async function openEmbeddedDatabase(options: DatabaseOptions): Promise<Database> {
  const pgliteDir = join(options.dataDir, 'pglite');
  mkdirSync(pgliteDir, { recursive: true, mode: 0o700 });
  // A Unix socket in a private folder: no TCP port, so no other local user can reach the embedded database.
  const socketDir = mkdtempSync(join(tmpdir(), 'latchkey-pglite-'));
  const socketPath = join(socketDir, `.s.PGSQL.${pgliteSocketPort}`);
  const worker = new Worker(new URL('./pglite-worker.ts', import.meta.url), {
    workerData: { dataDir: pgliteDir, socketPath, maxConnections: embeddedConnectionLimit },
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('embedded database did not start in time')),
      pgliteStartTimeoutMilliseconds,
    );
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.on('message', (message: { type: string; message?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`embedded database failed to start: ${message.message ?? 'unknown error'}`));
      }
    });
  });
  const pool = new pg.Pool({
    host: socketDir,
    port: pgliteSocketPort,
    user: 'postgres',
    database: 'postgres',
    // One connection: PGlite runs one statement at a time anyway, and pglite-socket queues protocol messages
    // one by one across connections, so two connections' extended-protocol sequences (Parse/Bind/Execute/Sync)
    // can interleave and, after an error, one can swallow the other's Sync and hang it.
    max: 1,
    connectionTimeoutMillis: 30_000,
    idleTimeoutMillis: 0,
  });
  watchPoolErrors(pool, options.onPoolError);
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    pool,
    db: drizzle({ client: pool }),
    close: () =>
      (closing ??= (async () => {
        await pool.end();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 10_000);
          worker.on('message', (message: { type: string }) => {
            if (message.type === 'closed') {
              clearTimeout(timer);
              resolve();
            }
          });
          worker.postMessage('close');
        });
        await worker.terminate();
        if (existsSync(socketDir)) rmSync(socketDir, { recursive: true, force: true });
      })()),
  };
}
