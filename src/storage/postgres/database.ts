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
    db: drizzle({ client: pool }),
    close: () =>
      (closing ??= (async () => {
        await pool.end();
        await server.stop();
      })()),
  };
}
