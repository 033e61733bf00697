import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** How a child ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const liveChildren = new Set<ChildProcess>();
const exitCleanups = new Set<() => void>();

function killEverything(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const cleanup of exitCleanups) {
    try {
      cleanup();
    } catch {
      // best effort: the process is exiting
    }
  }
}

// Whatever happens to the test process (a failed assertion, a timeout, --test-force-exit, Ctrl-C), no server
// it started outlives it.
process.once('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killEverything();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** spawn(), with the child killed (SIGKILL) if the test process exits before it does. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  child.once('error', () => liveChildren.delete(child));
  return child;
}

/** A synchronous clean-up (removing a folder) for when the test process exits; returns its remover. */
export function registerExitCleanup(cleanup: () => void): () => void {
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

/** Resolves when the child has exited (at once if it already has). */
export function waitForChildExit(child: ChildProcess): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Sends `signal`, waits up to `timeoutMilliseconds` for the exit, then SIGKILLs. `forced` tells whether the
 * child had to be killed.
 */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  timeoutMilliseconds: number,
): Promise<ChildExit & { readonly forced: boolean }> {
  const exited = waitForChildExit(child);
  if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), forced: false };
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMilliseconds);
  });
  const first = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (first !== 'timeout') return { ...first, forced: false };
  child.kill('SIGKILL');
  return { ...(await exited), forced: true };
}
