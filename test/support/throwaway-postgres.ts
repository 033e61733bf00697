import { spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { registerExitCleanup, spawnTracked, stopChild } from './children.ts';
import { findFreePort } from './ports.ts';
import { waitUntil } from './wait.ts';

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary folder, a free port, trust auth on
 * 127.0.0.1), which the test may stop and start again. The machine's PostgreSQL is never touched.
 */
export interface ThrowawayPostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  isRunning(): boolean;
  /**
   * `fast` (SIGINT): sessions are ended with 57P01, as a restart does; `immediate` (SIGQUIT): a crash, with
   * recovery at the next start.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts on the same port and folder; resolves once it accepts connections. */
  start(): Promise<void>;
  /** The URL of another database on this server. */
  urlOf(database: string): string;
  /** Runs one statement on a connection of its own (to `database`, by default `postgres`). */
  query<Row extends pg.QueryResultRow>(text: string, values?: unknown[], database?: string): Promise<Row[]>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

const startTimeoutMilliseconds = 30_000;

interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The newest server binaries installed (Debian layout first, then PATH), or null. */
export function findPostgresBinaries(): PostgresBinaries | null {
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((entry) => /^\d+$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const bin = join(debianRoot, version, 'bin');
      if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) {
        return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
      }
    }
  }
  const onPath = spawnSync('initdb', ['--version'], { stdio: 'ignore' }).status === 0;
  return onPath ? { initdb: 'initdb', postgres: 'postgres' } : null;
}

/** initdb and postgres refuse to run as root: as root, both run as the `postgres` OS user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) {
    throw new Error('running as root needs a `postgres` OS user to run the throwaway PostgreSQL');
  }
  return { uid, gid };
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const binaries = findPostgresBinaries();
  if (binaries === null) throw new Error('no PostgreSQL server binaries (initdb, postgres) found');
  const user = serverUser();
  const folder = mkdtempSync(join(tmpdir(), 'latchkey-pg-'));
  const removeAtExit = registerExitCleanup(() => rmSync(folder, { recursive: true, force: true }));
  if (user !== undefined) chownSync(folder, user.uid, user.gid);
  const dataDir = join(folder, 'data');
  const initdb = spawnSync(
    binaries.initdb,
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'],
    { encoding: 'utf8', ...user, timeout: 60_000 },
  );
  if (initdb.status !== 0) {
    rmSync(folder, { recursive: true, force: true });
    removeAtExit();
    throw new Error(`initdb failed (${initdb.status}):\n${initdb.stdout}\n${initdb.stderr}`);
  }

  const port = await findFreePort();
  const urlOf = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const url = urlOf('postgres');
  let child: ChildProcess | null = null;
  let log = '';

  async function start(): Promise<void> {
    if (child !== null) throw new Error('throwaway PostgreSQL is already running');
    const started = spawnTracked(
      binaries!.postgres,
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        folder,
        '-c',
        'listen_addresses=127.0.0.1',
        // Durability against a crashed *server* does not need fsync (the OS keeps the files); tests run faster.
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...user },
    );
    started.stdout?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-8_000)));
    started.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-8_000)));
    child = started;
    started.once('exit', () => {
      if (child === started) child = null;
    });
    await waitUntil(
      `throwaway PostgreSQL accepts connections on ${port}`,
      async () => {
        if (child !== started) throw new Error(`postgres exited:\n${log}`);
        await query('select 1');
        return true;
      },
      { timeoutMilliseconds: startTimeoutMilliseconds, intervalMilliseconds: 100 },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\npostgres output:\n${log}`);
    });
  }

  async function stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const running = child;
    if (running === null) return;
    await stopChild(running, mode === 'fast' ? 'SIGINT' : 'SIGQUIT', 20_000);
    child = null;
  }

  async function query<Row extends pg.QueryResultRow>(
    text: string,
    values?: unknown[],
    database = 'postgres',
  ): Promise<Row[]> {
    const client = new pg.Client({ connectionString: urlOf(database), connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query<Row>(text, values)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  }

  try {
    await start();
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    removeAtExit();
    throw error;
  }
  return {
    port,
    url,
    urlOf,
    isRunning: () => child !== null,
    stop,
    start,
    query,
    async close() {
      await stop('fast');
      rmSync(folder, { recursive: true, force: true });
      removeAtExit();
    },
  };
}
