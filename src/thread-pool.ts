// Imported first by the process entry, before anything can start libuv's thread pool: the pool reads
// UV_THREADPOOL_SIZE once, when its first job arrives.
import { availableParallelism } from 'node:os';

/*
 * One pool thread per core, instead of libuv's default of 4. Password hashes are the pool's main work, and
 * src/security/hash-scheduler.ts keeps one more hash queued than there are threads: a thread that finishes a
 * hash starts the next at once, without waiting for the event loop to hand it over. With more threads than
 * cores, that queued hash would run beside the others instead, and the hashes would fight for the cores and
 * their caches. A value set by the operator is kept.
 */
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));
