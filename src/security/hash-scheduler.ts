import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';

/*
 * Password hashes are the one CPU-heavy thing the service does, and they run on libuv's thread pool (one thread
 * per core, src/thread-pool.ts). Two rules keep them from hurting everything else:
 *
 * 1. At most one hash per core plus one are in flight; the rest wait in a FIFO here, in JavaScript. The extra
 *    one waits in libuv's own queue, so a pool thread that finishes a hash starts the next immediately: handing
 *    it over through the event loop left the thread idle for as long as the loop was busy with other requests,
 *    which cost a tenth of the login rate under load (docs/performance.md). More would not finish sooner
 *    (argon2id is bound by CPU and memory bandwidth), would hold 19 MiB each, and would keep DNS look-ups and
 *    file reads waiting behind them on the pool.
 * 2. On Linux the pool threads run at a lower priority (nice 10): when a request for a session check, a query
 *    result or a template is ready, the event loop gets the core first, and the hashes take whatever is left.
 *    Under a login storm that keeps "who am I" fast, and costs the storm nothing while cores are idle.
 */

const hashesInFlightLimit = Math.max(1, availableParallelism()) + 1;
const poolThreadNiceness = 10;

let inFlight = 0;
const waiting: (() => void)[] = [];
let poolThreadsLowered = false;

/** Hashes waiting for a slot: more than zero means every core is hashing and more work is queued. */
export function waitingHashJobs(): number {
  return waiting.length;
}

/** Runs `job` (one password hash or verification on the libuv pool) once a slot is free. */
export async function runHashJob<T>(job: () => Promise<T>): Promise<T> {
  if (inFlight >= hashesInFlightLimit) {
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    inFlight += 1;
  }
  try {
    return await job();
  } finally {
    if (!poolThreadsLowered) lowerPoolThreadPriority();
    const next = waiting.shift();
    // The slot passes straight to the next job, so inFlight stays as it is.
    if (next !== undefined) next();
    else inFlight -= 1;
  }
}

/**
 * libuv starts all its pool threads at the first job, so once a hash has run they all exist and can be found by
 * name. Best effort: elsewhere than Linux, or without the right to renice, the threads keep normal priority.
 */
function lowerPoolThreadPriority(): void {
  poolThreadsLowered = true;
  try {
    for (const threadId of readdirSync('/proc/self/task')) {
      const name = readFileSync(`/proc/self/task/${threadId}/comm`, 'utf8').trim();
      if (name === 'libuv-worker') setPriority(Number(threadId), poolThreadNiceness);
    }
  } catch {
    // No /proc, or no permission: nothing to lower.
  }
}
