// The stop sequence of every process entry (src/main.ts, src/worker.ts). The entries own the signals and the
// exit; this runs the close steps, in order, within a bound.
import type { Logger } from 'pino';

/** One thing to close, named for the log if it fails. */
export interface ShutdownStep {
  readonly name: string;
  run(): Promise<void>;
}

export interface ShutdownOptions {
  readonly logger: Logger;
  /** In order: stop taking work first, close the connections last. */
  readonly steps: readonly ShutdownStep[];
  /** Logged once every step has finished. */
  readonly stoppedMessage: string;
  readonly timeoutMilliseconds?: number;
}

/** A stop that hangs (SMTP or the database stalled) must not keep an orchestrator waiting forever. */
export const shutdownTimeoutMilliseconds = 15_000;

/**
 * Returns the function a signal handler calls. The first call runs every step once, in order (a failed step
 * is logged and the others still run), and resolves with the exit code: 0, or 1 if a step failed or the
 * whole stop took longer than the timeout. Later calls get the same answer.
 */
export function prepareShutdown(options: ShutdownOptions): (signal: string) => Promise<number> {
  const { logger } = options;
  let exitCode: Promise<number> | undefined;

  async function runSteps(): Promise<number> {
    let failed = false;
    for (const step of options.steps) {
      try {
        await step.run();
      } catch (error) {
        failed = true;
        logger.error({ err: error, step: step.name }, 'shutdown failed');
      }
    }
    if (!failed) logger.info(options.stoppedMessage);
    return failed ? 1 : 0;
  }

  return (signal) => {
    if (exitCode !== undefined) return exitCode;
    logger.info({ signal }, 'shutting down');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        resolve(1);
      }, options.timeoutMilliseconds ?? shutdownTimeoutMilliseconds);
    });
    exitCode = Promise.race([runSteps(), timedOut]).finally(() => clearTimeout(timer));
    return exitCode;
  };
}
