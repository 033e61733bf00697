// Embedded PostgreSQL: PGlite (PostgreSQL in WASM) served over a Unix socket from a worker thread, so the
// service talks to it with the same node-postgres code as to a real server and a slow query never blocks
// the event loop that answers HTTP.
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { parentPort, workerData } from 'node:worker_threads';

interface WorkerInput {
  readonly dataDir: string;
  readonly socketPath: string;
  readonly maxConnections: number;
}

const input = workerData as WorkerInput;
const port = parentPort;
if (port === null) throw new Error('pglite-worker must run in a worker thread');

try {
  const db = await PGlite.create(input.dataDir);
  const server = new PGLiteSocketServer({ db, path: input.socketPath, maxConnections: input.maxConnections });
  await server.start();
  port.on('message', (message: unknown) => {
    if (message !== 'close') return;
    void (async () => {
      await server.stop();
      await db.close();
      port.postMessage({ type: 'closed' });
      port.close();
    })();
  });
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
