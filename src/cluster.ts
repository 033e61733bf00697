// WORKERS > 1: the first process becomes a supervisor that forks that many copies of main.ts (node:cluster),
// shares the listening port with them, restarts one that crashes, and passes SIGTERM/SIGINT on to all of them.
// Each worker is a whole service (its own pools, its own outbox dispatcher: claims are SKIP LOCKED-safe).
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

const restartDelayMilliseconds = 1_000;
/** More crashes than this within the window means the workers cannot run (database down, bad schema): give up. */
const crashLimit = 5;
const crashWindowMilliseconds = 60_000;

export interface WorkerSupervisor {
  /** Resolves with the primary's exit code once every worker has exited after `stop`, or after too many crashes. */
  readonly exited: Promise<number>;
  /** Passes the signal on to every worker; each finishes its requests and email sends, then exits. */
  stop(signal: NodeJS.Signals): void;
}

/** True in the process that must supervise workers instead of serving. */
export function isWorkerSupervisor(workers: number): boolean {
  return workers > 1 && cluster.isPrimary;
}

export function superviseWorkers(workers: number, logger: Logger): WorkerSupervisor {
  let stopping = false;
  let failed = false;
  const crashTimes: number[] = [];
  let resolveExited: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (resolveExited = resolve));

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);

  function stop(signal: NodeJS.Signals): void {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live().length }, 'stopping workers');
    for (const worker of live()) worker.process.kill(signal);
    if (live().length === 0) resolveExited(failed ? 1 : 0);
  }

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0 && code !== null) failed = true;
      if (live().length === 0) resolveExited(failed ? 1 : 0);
      return;
    }
    const now = Date.now();
    crashTimes.push(now);
    while (crashTimes.length > 0 && (crashTimes[0] as number) < now - crashWindowMilliseconds)
      crashTimes.shift();
    logger.error({ pid: worker.process.pid, code, signal }, 'worker exited unexpectedly');
    if (crashTimes.length > crashLimit) {
      logger.error({ crashes: crashTimes.length }, 'workers keep crashing; stopping');
      failed = true;
      stop('SIGTERM');
      return;
    }
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, restartDelayMilliseconds);
  });

  for (let i = 0; i < workers; i++) cluster.fork();
  logger.info({ workers }, 'supervising workers');
  return { exited, stop };
}
