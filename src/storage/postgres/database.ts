import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import { drizzle } from './drizzle.ts';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-server.ts';

/** A drizzle handle: the pool, or one transaction on it. */
export type Db = PgDatabase<NodePgQueryResultHKT>;

/** An adapter whose every query goes through one drizzle handle on the pool. */
export abstract class PostgresStore {
  protected readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }
}

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
  /**
   * PostgreSQL only: the longest a statement may run or wait for a lock (0: no limit). The embedded database runs
   * one statement at a time on one connection, where no statement waits for another's lock.
   */
  readonly statementTimeoutMilliseconds?: number;
  /** Called for errors of idle pooled connections (a restarted server); without a handler they crash the process. */
  readonly onPoolError?: (error: Error) => void;
  /** Embedded mode: a server the caller already started (see embedded-server.ts); else one is started here. */
  readonly embeddedServer?: EmbeddedServer;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    watchPoolErrors(pool, options.onPoolError);
    limitStatementTime(pool, options.statementTimeoutMilliseconds ?? 0);
    return { kind: 'postgres', pool, db: openDrizzleOnPool(pool), close: () => pool.end() };
  }
  return openEmbeddedDatabase(options);
}

/**
 * drizzle on the pool, except for transactions. drizzle-orm 0.45's node-postgres `transaction()` sends `begin`
 * before the try/finally that releases its pooled client (drizzle-team/drizzle-orm#6241, open): a `begin` that
 * fails, as it does when the connection died between checkout and use (a database restart), never gives the
 * client back. The pool then shrinks by one for good at every such failure; the embedded database's pool has
 * one connection, so one failure would hang the service. Here the client is taken and always released by us,
 * and drizzle runs the transaction on that one client. Unless the work itself failed (and drizzle then rolled
 * back), the failure was `begin`, `commit` or `rollback`: the connection's state is unknown, so it is discarded.
 */
function openDrizzleOnPool(pool: pg.Pool): Db {
  const db = drizzle({ client: pool });
  const transaction: Db['transaction'] = async (work, config) => {
    const client = await pool.connect();
    let workFailure: unknown;
    let discardReason: Error | undefined;
    try {
      return await drizzle({ client }).transaction(async (tx) => {
        try {
          return await work(tx);
        } catch (error) {
          workFailure = error;
          throw error;
        }
      }, config);
    } catch (error) {
      if (error !== workFailure) discardReason = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(discardReason);
    }
  };
  db.transaction = transaction;
  return db;
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

/**
 * Bounds every statement without session state, so it holds behind PgBouncer in transaction pooling mode, where
 * a session-level SET (or a statement_timeout startup parameter, which PgBouncer refuses) would land on
 * whichever server connection happened to serve it:
 * - a transaction's `begin` becomes `begin; set local statement_timeout = …` (one round trip): the server cancels
 *   the statement (57014), and the transaction is rolled back;
 * - a statement outside a transaction gets the same limit client-side (pg's query_timeout): the request is
 *   answered at once, and the pool discards the connection, whose statement may still finish on the server.
 * Either failure is an outage to the caller (outages.ts): 503, not a hung request. The migrations lift the
 * limit for their own transaction (migrate.ts).
 */
function limitStatementTime(pool: pg.Pool, timeoutMilliseconds: number): void {
  if (timeoutMilliseconds === 0) return;
  const setLimit = `set local statement_timeout = ${String(timeoutMilliseconds)}`;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    let inTransaction = false;
    client.query = ((first: unknown, ...rest: unknown[]): unknown => {
      if (typeof (first as { submit?: unknown } | null)?.submit === 'function') return query(first, ...rest);
      const config: { text?: unknown; query_timeout?: number } =
        typeof first === 'string'
          ? { text: first }
          : typeof first === 'object' && first !== null
            ? first
            : {};
      const text = typeof config.text === 'string' ? config.text.trim() : '';
      // drizzle opens a transaction with `begin` (plus its options), without parameters: the simple protocol,
      // where two statements may share one message.
      if (/^begin\b/i.test(text) && !text.includes(';')) {
        inTransaction = true;
        return query({ ...config, text: `${text}; ${setLimit}` }, ...rest);
      }
      if (/^(commit|rollback)$/i.test(text)) {
        inTransaction = false;
        return query(first, ...rest);
      }
      if (inTransaction || config.query_timeout !== undefined) return query(first, ...rest);
      return query({ ...config, query_timeout: timeoutMilliseconds }, ...rest);
    }) as typeof client.query;
  });
}

async function openEmbeddedDatabase(options: DatabaseOptions): Promise<Database> {
  const server = options.embeddedServer ?? startEmbeddedServer(options.dataDir);
  try {
    await server.ready;
  } catch (error) {
    await server.stop();
    throw error;
  }
  const pool = new pg.Pool({
    host: server.socketDir,
    port: server.port,
    user: 'postgres',
    database: 'postgres',
    // One connection: PGlite runs one statement at a time anyway, and pglite-socket queues protocol messages
    // one by one across connections, so two connections' extended-protocol sequences (Parse/Bind/Execute/Sync)
    // can interleave and, after an error, one can swallow the other's Sync and hang it.
    max: 1,
    connectionTimeoutMillis: 30_000,
    idleTimeoutMillis: 0,
    // pglite-socket keeps one backend session for every connection, so the statements a discarded connection
    // prepared (the pool drops a client whose query failed) outlive it, and the next client's first Parse of
    // the same name would fail with "already exists", again and again. A new connection starts as a new
    // session does: with none.
    onConnect: async (client) => {
      await client.query('deallocate all');
    },
  });
  watchPoolErrors(pool, options.onPoolError);
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    pool,
    db: openDrizzleOnPool(pool),
    close: () =>
      (closing ??= (async () => {
        await pool.end();
        await server.stop();
      })()),
  };
}
