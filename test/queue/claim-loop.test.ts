import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  claimFailureMaxBackoffMilliseconds,
  startClaimLoop,
  type ClaimLoop,
  type ClaimLoopOptions,
  type StartTimer,
} from '../../src/queue/claim-loop.ts';

/** Timers that fire only when the test moves time on. */
class ManualTimers {
  nowMilliseconds = 0;
  readonly #pending = new Set<{ at: number; callback: () => void }>();

  readonly start: StartTimer = (callback, milliseconds) => {
    const timer = { at: this.nowMilliseconds + milliseconds, callback };
    this.#pending.add(timer);
    return () => this.#pending.delete(timer);
  };

  /** The delays of the timers now waiting, from now. */
  waitingMilliseconds(): number[] {
    return [...this.#pending].map((timer) => timer.at - this.nowMilliseconds);
  }

  async advanceMilliseconds(milliseconds: number): Promise<void> {
    const end = this.nowMilliseconds + milliseconds;
    for (;;) {
      await settle();
      const due = [...this.#pending]
        .filter((timer) => timer.at <= end)
        .sort((first, second) => first.at - second.at)[0];
      if (due === undefined) break;
      this.#pending.delete(due);
      this.nowMilliseconds = due.at;
      due.callback();
    }
    this.nowMilliseconds = end;
    await settle();
  }
}

/** Lets every promise chain the loop started run to its next wait. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

interface Harness {
  readonly loop: ClaimLoop;
  readonly timers: ManualTimers;
  readonly claims: number[];
  readonly delivered: string[];
  readonly failures: number[];
}

function startHarness(
  claim: (limit: number) => Promise<readonly string[]>,
  overrides: Partial<ClaimLoopOptions<string>> = {},
): Harness {
  const timers = new ManualTimers();
  const claims: number[] = [];
  const delivered: string[] = [];
  const failures: number[] = [];
  const loop = startClaimLoop<string>({
    claimBatch: (limit) => {
      claims.push(timers.nowMilliseconds);
      return claim(limit);
    },
    deliver: async (item) => {
      delivered.push(item);
    },
    batchSize: 3,
    pollIntervalMilliseconds: 1_000,
    onClaimFailed: (_error, retryInMilliseconds) => failures.push(retryInMilliseconds),
    onLoopFailed: (error) => assert.fail(`the loop died: ${String(error)}`),
    startTimer: timers.start,
    ...overrides,
  });
  return { loop, timers, claims, delivered, failures };
}

/** A queue of items handed out a batch at a time. */
function queueOf(items: string[]): (limit: number) => Promise<string[]> {
  return async (limit) => items.splice(0, limit);
}

describe('the claim loop', () => {
  test('claim failures back off, doubling up to the cap, and the loop recovers and delivers', async () => {
    let failuresLeft = 6;
    const items = ['a', 'b'];
    const harness = startHarness(async (limit) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('connection refused');
      }
      return items.splice(0, limit);
    });
    try {
      await harness.timers.advanceMilliseconds(60_000);
      assert.deepEqual(harness.failures, [2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
      assert.equal(claimFailureMaxBackoffMilliseconds, 10_000);
      // Each claim came after the previous one's backoff, never sooner.
      assert.deepEqual(harness.claims.slice(0, 7), [0, 2_000, 6_000, 14_000, 24_000, 34_000, 44_000]);
      assert.deepEqual(harness.delivered, ['a', 'b']);
    } finally {
      await harness.loop.stop();
    }
  });

  test('after a recovery the backoff starts again from the poll interval', async () => {
    const outcomes = ['fail', 'fail', 'ok', 'fail'];
    const harness = startHarness(async () => {
      if (outcomes.shift() === 'fail') throw new Error('down');
      return [];
    });
    try {
      await harness.timers.advanceMilliseconds(20_000);
      assert.deepEqual(harness.failures, [2_000, 4_000, 2_000]);
    } finally {
      await harness.loop.stop();
    }
  });

  test('wake() does not cut a claim-failure backoff short', async () => {
    let failing = true;
    const harness = startHarness(async () => {
      if (failing) throw new Error('down');
      return [];
    });
    try {
      await settle();
      assert.equal(harness.claims.length, 1);
      failing = false;
      harness.loop.wake();
      await settle();
      assert.equal(harness.claims.length, 1, 'a struggling database is not hammered on every enqueue');
      await harness.timers.advanceMilliseconds(2_000);
      assert.equal(harness.claims.length, 2);
    } finally {
      await harness.loop.stop();
    }
  });

  test('a short batch sleeps a poll interval; a full one is followed by another claim at once', async () => {
    const harness = startHarness(queueOf(['a', 'b', 'c', 'd', 'e', 'f', 'g']));
    try {
      await settle();
      // Three full batches (3, 3) then a short one (1), all at time 0.
      assert.deepEqual(harness.claims, [0, 0, 0]);
      assert.deepEqual(harness.delivered, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
      assert.deepEqual(harness.timers.waitingMilliseconds(), [1_000]);
      await harness.timers.advanceMilliseconds(999);
      assert.equal(harness.claims.length, 3, 'nothing claimed before the poll interval is over');
      await harness.timers.advanceMilliseconds(1);
      assert.deepEqual(harness.claims, [0, 0, 0, 1_000]);
    } finally {
      await harness.loop.stop();
    }
  });

  test('wake() ends the sleep at once, and a wake during a claim skips the next sleep', async () => {
    const items: string[] = [];
    let releaseClaim: (() => void) | undefined;
    let holdNextClaim = false;
    const harness = startHarness(async (limit) => {
      const batch = items.splice(0, limit);
      if (holdNextClaim) {
        holdNextClaim = false;
        await new Promise<void>((resolve) => (releaseClaim = resolve));
      }
      return batch;
    });
    try {
      await settle();
      assert.deepEqual(harness.claims, [0]);
      items.push('queued');
      harness.loop.wake();
      await settle();
      assert.deepEqual(harness.claims, [0, 0], 'woken: claimed without waiting for the poll');
      assert.deepEqual(harness.delivered, ['queued']);

      holdNextClaim = true;
      harness.loop.wake();
      await settle();
      assert.equal(harness.claims.length, 3);
      // Queued while the claim was running: the claim missed it, so the loop claims again at once.
      items.push('late');
      harness.loop.wake();
      releaseClaim?.();
      await settle();
      assert.equal(harness.claims.length, 4);
      assert.deepEqual(harness.delivered, ['queued', 'late']);
      assert.equal(harness.timers.nowMilliseconds, 0);
    } finally {
      await harness.loop.stop();
    }
  });

  test('stop() waits for the deliveries in flight, then claims nothing more', async () => {
    const items = ['slow', 'fast'];
    const finished: string[] = [];
    let releaseSlow: (() => void) | undefined;
    const harness = startHarness(queueOf(items), {
      deliver: async (item) => {
        if (item === 'slow') await new Promise<void>((resolve) => (releaseSlow = resolve));
        finished.push(item);
      },
    });
    await settle();
    let stopped = false;
    const stopping = harness.loop.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'stop() resolved while a delivery was still running');
    assert.deepEqual(finished, ['fast']);
    releaseSlow?.();
    await stopping;
    assert.deepEqual(finished, ['fast', 'slow']);
    items.push('after');
    harness.loop.wake();
    await harness.timers.advanceMilliseconds(10_000);
    assert.deepEqual(harness.claims, [0]);
    assert.equal(harness.loop.stop(), harness.loop.stop());
  });

  test('a failed delivery does not stop the batch or the loop', async () => {
    const items = ['a', 'broken', 'c'];
    const delivered: string[] = [];
    const harness = startHarness(queueOf(items), {
      deliver: async (item) => {
        if (item === 'broken') throw new Error('boom');
        delivered.push(item);
      },
    });
    try {
      await settle();
      items.push('d');
      await harness.timers.advanceMilliseconds(1_000);
      assert.deepEqual(delivered, ['a', 'c', 'd']);
    } finally {
      await harness.loop.stop();
    }
  });

  test('a deferral waits before claiming, is not cut short by wake(), and claims once it ends', async () => {
    let deferring = true;
    const harness = startHarness(queueOf(['a']), {
      deferClaimMilliseconds: () => (deferring ? 100 : 0),
    });
    try {
      await settle();
      harness.loop.wake();
      await harness.timers.advanceMilliseconds(250);
      assert.deepEqual(harness.claims, []);
      deferring = false;
      await harness.timers.advanceMilliseconds(100);
      assert.deepEqual(harness.claims, [300]);
      assert.deepEqual(harness.delivered, ['a']);
    } finally {
      await harness.loop.stop();
    }
  });
});
