import type { Clock } from '../flows/ports.ts';

export const systemClock: Clock = { now: () => new Date() };
