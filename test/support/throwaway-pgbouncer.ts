import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { registerExitCleanup, spawnTracked, stopChild } from './children.ts';
import { findFreePort } from './ports.ts';
import { waitUntil } from './wait.ts';

/**
 * A PgBouncer of the test's own (Debian's, 1.18) on a free port, in transaction pooling mode, in front of the
 * PostgreSQL server of `serverUrl`: every database of that server is reachable through it under its own name.
 * `serverConnections` is small on purpose, so that many client connections share few server connections and
 * any session-level state (a SET, a session advisory lock, a named prepared statement) lands where the next
 * transaction of the same client connection cannot count on finding it.
 */
export interface ThrowawayPgBouncer {
  readonly port: number;
  /** `databaseUrl` (a database on the server) reached through this PgBouncer instead. */
  routeThrough(databaseUrl: string): string;
  close(): Promise<void>;
}

export const pgbouncerPath = '/usr/sbin/pgbouncer';
const startTimeoutMilliseconds = 10_000;

export function pgbouncerAvailable(): boolean {
  return existsSync(pgbouncerPath);
}

export async function startThrowawayPgBouncer(options: {
  readonly serverUrl: string;
  readonly serverConnections?: number;
}): Promise<ThrowawayPgBouncer> {
  const server = new URL(options.serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const port = await findFreePort();
  const directory = mkdtempSync(join(tmpdir(), 'latchkey-pgbouncer-'));
  const removeDirectory = (): void => rmSync(directory, { recursive: true, force: true });
  const unregisterCleanup = registerExitCleanup(removeDirectory);
  // The test server trusts local connections; PgBouncer logs in as the client's user with the same (empty)
  // password, so clients are trusted here too.
  writeFileSync(join(directory, 'userlist.txt'), `"${user}" "${decodeURIComponent(server.password)}"\n`);
  writeFileSync(
    join(directory, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${String(port)}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(directory, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${String(options.serverConnections ?? 3)}`,
      'max_client_conn = 500',
      // Nothing else: a client that needs a startup parameter PgBouncer does not know is refused, as in production.
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root (CI runs as root): it then runs as the postgres account.
  const runAs = process.getuid?.() === 0 ? lookUpAccount('postgres') : undefined;
  if (runAs !== undefined) {
    chmodSync(directory, 0o755);
    chmodSync(join(directory, 'pgbouncer.ini'), 0o644);
    chmodSync(join(directory, 'userlist.txt'), 0o644);
  }
  let log = '';
  const child: ChildProcess = spawnTracked(pgbouncerPath, [join(directory, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
  });
  child.stdout?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));

  const routeThrough = (databaseUrl: string): string => {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.href;
  };
  const close = async (): Promise<void> => {
    await stopChild(child, 'SIGTERM', 5_000);
    removeDirectory();
    unregisterCleanup();
  };
  try {
    await waitUntil(
      `throwaway PgBouncer answers on ${String(port)}`,
      () => answers(routeThrough(options.serverUrl)),
      {
        timeoutMilliseconds: startTimeoutMilliseconds,
        intervalMilliseconds: 50,
      },
    );
  } catch (error) {
    await close();
    throw new Error(`${(error as Error).message}\npgbouncer output:\n${log}`, { cause: error });
  }
  return { port, routeThrough, close };
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

function lookUpAccount(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
