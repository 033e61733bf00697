import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The embedded PostgreSQL (PGlite in a worker thread, behind pglite-socket on a private Unix socket). Light on
 * purpose: it imports nothing but Node, so the process entry can start it before it loads the rest of the
 * service, and PGlite's start-up runs on another core meanwhile (docs/performance.md).
 */
export interface EmbeddedServer {
  /** The folder of the Unix socket: the `host` a client connects to. */
  readonly socketDir: string;
  readonly port: number;
  /** Resolves once the server accepts connections; rejects if it fails to start or takes too long. */
  readonly ready: Promise<void>;
  /** Stops the server (a clean PGlite shutdown, so the data folder stays consistent) and removes the socket. */
  stop(): Promise<void>;
}

const pgliteSocketPort = 5432;
const pgliteStartTimeoutMilliseconds = 60_000;
const pgliteStopTimeoutMilliseconds = 10_000;
/** The pool's one connection, plus one for `npm run migrate` or a second look while the service runs. */
const embeddedConnectionLimit = 3;

export function startEmbeddedServer(dataDir: string): EmbeddedServer {
  const pgliteDir = join(dataDir, 'pglite');
  mkdirSync(pgliteDir, { recursive: true, mode: 0o700 });
  // A Unix socket in a private folder: no TCP port, so no other local user can reach the embedded database.
  const socketDir = mkdtempSync(join(tmpdir(), 'latchkey-pglite-'));
  const socketPath = join(socketDir, `.s.PGSQL.${pgliteSocketPort}`);
  const worker = new Worker(new URL('./pglite-worker.ts', import.meta.url), {
    workerData: { dataDir: pgliteDir, socketPath, maxConnections: embeddedConnectionLimit },
  });
  const ready = new Promise<void>((resolve, reject) => {
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
  let failed = false;
  // Whoever awaits `ready` sees a failure; until then it must not count as unhandled.
  ready.catch(() => {
    failed = true;
  });
  let stopping: Promise<void> | undefined;
  return {
    socketDir,
    port: pgliteSocketPort,
    ready,
    stop: () =>
      (stopping ??= (async () => {
        // A server that never started cannot answer 'close'.
        if (failed) {
          await worker.terminate();
          rmSync(socketDir, { recursive: true, force: true });
          return;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            () => void worker.terminate().then(() => resolve()),
            pgliteStopTimeoutMilliseconds,
          );
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
