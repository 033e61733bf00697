// Starting and stopping Latchkey as the bench measures it: `node src/main.ts` in its own process (and its
// cluster workers, if any), with the node flags of `npm start`, through the processes of test/support.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../test/support/ports.ts';
import { startLatchkey } from '../test/support/process.ts';
import { processTree } from './usage.ts';

export const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

export interface RunningService {
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the first 200 on `GET /`. */
  readonly startMilliseconds: number;
  stop(): Promise<void>;
}

const startTimeoutMilliseconds = 60_000;
const stopTimeoutMilliseconds = 20_000;
/** Start-up is a reported figure: polled finely. */
const startPollMilliseconds = 25;

/**
 * The node flags of `npm start` (V8 heap settings, see docs/performance.md), so the bench runs the service as
 * it is deployed, without an npm process in the measured process tree.
 */
function readStartFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const match = /^node\s+(.*?)\s*src\/main\.ts$/.exec(manifest.scripts.start ?? '');
  if (match === null) throw new Error('npm start is expected to be "node [flags] src/main.ts"');
  return (match[1] ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Spawns the service (as `npm start` does) with exactly `env` plus PATH and HOME; waits for its first answer.
 * `script` runs another entry point of the repository the same way (the bench's floor server), without the
 * service's node flags.
 */
export async function startService(
  env: Record<string, string>,
  logPath: string,
  script = 'src/main.ts',
): Promise<RunningService> {
  const port = env.PORT ?? String(await findFreePort());
  const running = await startLatchkey({
    name: script,
    env: { HOME: process.env.HOME ?? '', ...env, PORT: port, HOST: '127.0.0.1' },
    script: join(repositoryRoot, script),
    nodeFlags: script === 'src/main.ts' ? readStartFlags() : [],
    livenessPath: '/',
    pollMilliseconds: startPollMilliseconds,
    startTimeoutMilliseconds,
    logPath,
    // Under load a chatty log would cost the bench's own process: the file alone keeps it.
    keepOutput: false,
  });
  const startMilliseconds = performance.now() - running.spawnedAt;
  const pid = running.child.pid;
  if (pid === undefined) throw new Error('the service has no pid');

  return {
    url: running.baseUrl,
    pid,
    startMilliseconds,
    async stop(): Promise<void> {
      const family = processTree(pid);
      const exit = await running.stop({ timeoutMilliseconds: stopTimeoutMilliseconds });
      // Cluster workers of a primary that had to be killed would otherwise linger.
      if (exit.forced) for (const member of family) tryKill(member);
    },
  };
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
