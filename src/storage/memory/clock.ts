import type { Clock } from '../../flows/ports.ts';

/** The time of day, read at every call. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that moves only when told, so a rule about hours or days is checked in milliseconds. */
export interface ManualClock extends Clock {
  set(time: Date): void;
  advanceSeconds(seconds: number): void;
}

export function createManualClock(start: Date = new Date('2026-01-15T09:00:00.000Z')): ManualClock {
  let nowMs = start.getTime();
  return {
    now: () => new Date(nowMs),
    set(time) {
      nowMs = time.getTime();
    },
    advanceSeconds(seconds) {
      nowMs += seconds * 1000;
    },
  };
}
