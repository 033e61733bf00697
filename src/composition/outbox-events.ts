import { EventEmitter } from 'node:events';
import type { EmailDispatchEvent } from '../email/dispatcher.ts';

/**
 * What happens to the outbox in this process: `queued` after a commit that queued mail (the dispatcher claims
 * it at once instead of at its next poll), `delivered` after every send of this process's dispatcher (metrics).
 * Listeners must not throw: `queued` is emitted right after a commit, inside the request that made it.
 */
export interface OutboxEventMap {
  queued: [];
  delivered: [EmailDispatchEvent];
}

export type OutboxEvents = EventEmitter<OutboxEventMap>;

export function createOutboxEvents(): OutboxEvents {
  return new EventEmitter<OutboxEventMap>();
}
