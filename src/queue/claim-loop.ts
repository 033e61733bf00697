/**
 * The loop shared by the queues' dispatchers (mail, webhooks): claim a batch under a lease, deliver it, claim
 * again. What a delivery means and what its failure does stays with each dispatcher; this module knows only
 * claiming, sleeping and stopping. A leaf: it imports nothing of the project, so storage/, email/ and webhooks/
 * may all use it without reaching each other.
 */

/** Starts a timer; the function returned cancels it. Injected so that tests run the loop on a manual clock. */
export type StartTimer = (callback: () => void, milliseconds: number) => () => void;

export interface ClaimLoopOptions<Item> {
  /** Leases up to `limit` due items. A throw counts as a claim failure: the loop backs off and claims again. */
  readonly claimBatch: (limit: number) => Promise<readonly Item[]>;
  /** Handles one claimed item; the items of a batch run together. A rejection is the dispatcher's to report. */
  readonly deliver: (item: Item) => Promise<void>;
  readonly batchSize: number;
  /** How long to sleep after a short batch; wake() cuts the sleep short. */
  readonly pollIntervalMilliseconds: number;
  /** Told of every claim failure and how long the loop now waits; must not throw. */
  readonly onClaimFailed: (error: unknown, retryInMilliseconds: number) => void;
  /** Told if the loop itself dies (a bug, never a delivery's or a claim's failure); must not throw. */
  readonly onLoopFailed: (error: unknown) => void;
  /**
   * Asked before every claim: milliseconds to wait before asking again (not cut short by wake()), or 0 to
   * claim now. Lets the mail dispatcher yield the cores to requests.
   */
  readonly deferClaimMilliseconds?: () => number;
  readonly startTimer?: StartTimer;
}

export interface ClaimLoop {
  /** Something was just queued: claim now rather than at the next poll (a backoff is not cut short). */
  wake(): void;
  /** Stops claiming, waits for the deliveries in flight, then resolves; the same promise on every call. */
  stop(): Promise<void>;
}

// Short enough that work flows again within seconds of the database coming back.
export const claimFailureMaxBackoffMilliseconds = 10_000;

const startSystemTimer: StartTimer = (callback, milliseconds) => {
  const timer = setTimeout(callback, milliseconds);
  return () => clearTimeout(timer);
};

/** The delay after the n-th claim failure in a row: doubling from the poll interval, capped. */
export function computeClaimBackoffMilliseconds(
  pollIntervalMilliseconds: number,
  consecutiveFailures: number,
): number {
  return Math.min(
    claimFailureMaxBackoffMilliseconds,
    pollIntervalMilliseconds * 2 ** Math.min(consecutiveFailures, 16),
  );
}

/**
 * Runs until stop(): claims a batch, delivers its items together and waits for all of them; a full batch
 * suggests more is due and is followed by another claim at once, a short one by a sleep of the poll interval.
 * Claim failures back off exponentially and are not cut short by wake(): a struggling database should not be
 * hammered on every enqueue.
 */
export function startClaimLoop<Item>(options: ClaimLoopOptions<Item>): ClaimLoop {
  const startTimer = options.startTimer ?? startSystemTimer;
  let stopping = false;
  // Set by wake() while a batch runs, so work queued during a claim is not left waiting for the next poll.
  let wakeRequested = false;
  let interruptSleep: (() => void) | null = null;

  function sleep(milliseconds: number, wakeable: boolean): Promise<void> {
    if (stopping || (wakeable && wakeRequested)) return Promise.resolve();
    return new Promise((resolve) => {
      let finished = false;
      const cancelTimer = startTimer(finish, milliseconds);
      function finish(): void {
        if (finished) return;
        finished = true;
        cancelTimer();
        interruptSleep = null;
        resolve();
      }
      interruptSleep = (): void => {
        if (wakeable || stopping) finish();
      };
    });
  }

  async function runLoop(): Promise<void> {
    let consecutiveClaimFailures = 0;
    while (!stopping) {
      const deferMilliseconds = options.deferClaimMilliseconds?.() ?? 0;
      if (deferMilliseconds > 0) {
        // Not cut short by wake(): new work is exactly what waits here.
        await sleep(deferMilliseconds, false);
        continue;
      }
      wakeRequested = false;
      let items: readonly Item[];
      try {
        items = await options.claimBatch(options.batchSize);
        consecutiveClaimFailures = 0;
      } catch (error) {
        consecutiveClaimFailures += 1;
        const backoffMilliseconds = computeClaimBackoffMilliseconds(
          options.pollIntervalMilliseconds,
          consecutiveClaimFailures,
        );
        options.onClaimFailed(error, backoffMilliseconds);
        await sleep(backoffMilliseconds, false);
        continue;
      }
      await Promise.allSettled(items.map((item) => options.deliver(item)));
      if (items.length < options.batchSize) await sleep(options.pollIntervalMilliseconds, true);
    }
  }

  const loopFinished = runLoop().catch((error: unknown) => options.onLoopFailed(error));
  return {
    wake(): void {
      if (stopping) return;
      wakeRequested = true;
      interruptSleep?.();
    },
    stop(): Promise<void> {
      stopping = true;
      interruptSleep?.();
      return loopFinished;
    },
  };
}
