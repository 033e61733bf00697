// Starting and stopping Latchkey as the bench measures it: `node src/main.ts` in its own process (and its
// cluster workers, if any), watched from outside through /proc for memory and CPU.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

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

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The node flags of `npm start` (V8 heap settings, see docs/performance.md), so the bench runs the service as
 * it is deployed, without an npm process in the measured process tree.
 */
export function readStartFlags(): string[] {
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
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(logPath, { flags: 'a' });
  const started = performance.now();
  const nodeFlags = script === 'src/main.ts' ? readStartFlags() : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, script], {
    cwd: repositoryRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...env,
      PORT: port,
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const deadline = Date.now() + startTimeoutMilliseconds;
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`the service exited with ${exitCode} on start; see ${logPath}`);
    try {
      const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service did not answer within ${startTimeoutMilliseconds} ms; see ${logPath}`);
    }
    await sleep(25);
  }
  const startMilliseconds = performance.now() - started;
  const pid = child.pid;
  if (pid === undefined) throw new Error('the service has no pid');

  return {
    url,
    pid,
    startMilliseconds,
    async stop(): Promise<void> {
      if (exitCode !== undefined) return;
      const family = processTree(pid);
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const member of family) tryKill(member);
      }, stopTimeoutMilliseconds);
      await exited;
      clearTimeout(timer);
      log.end();
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

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The process and all its descendants (cluster workers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  const found: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    found.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

const pageKibibytes = 4;

/** Resident memory of the processes, summed, in MiB. */
export function residentMebibytes(pids: readonly number[]): number {
  let kibibytes = 0;
  for (const pid of pids) {
    try {
      kibibytes += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * pageKibibytes;
    } catch {
      // exited
    }
  }
  return kibibytes / 1024;
}

/** CPU time of the processes, summed, in clock ticks (100 per second on Linux). */
export function cpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks;
}

/** Samples the whole tree's resident memory every 200 ms until stopped; returns the peak in MiB. */
export function sampleResidentMemory(root: number): { stop(): number } {
  let pids = processTree(root);
  let peak = residentMebibytes(pids);
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    if (ticks % 10 === 0) pids = processTree(root);
    peak = Math.max(peak, residentMebibytes(pids));
  }, 200);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, residentMebibytes(processTree(root)));
    },
  };
}

/** Waits (at most `timeoutMilliseconds`) until the tree uses under a tenth of a core for two half-seconds in a row. */
export async function waitUntilIdle(root: number, timeoutMilliseconds = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMilliseconds;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    const pids = processTree(root);
    const before = cpuTicks(pids);
    const started = performance.now();
    await sleep(500);
    const busyCores = (cpuTicks(pids) - before) / ((performance.now() - started) / 10);
    quiet = busyCores < 0.1 ? quiet + 1 : 0;
  }
  return quiet >= 2;
}
