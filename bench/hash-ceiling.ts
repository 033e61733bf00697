// The argon2id ceiling of this machine: how many of Latchkey's own password hashes (same function, same
// parameters, same scheduler: one hash per core plus one queued in flight) all cores finish per second. Run as
// its own process, with UV_THREADPOOL_SIZE set to the core count as the service sets it, while nothing else of
// the bench is busy. Prints one JSON line.
import { availableParallelism } from 'node:os';
import { hashPassword } from '../src/security/passwords.ts';

const durationSeconds = Number(process.argv[2] ?? 5);
const cores = availableParallelism();
const password = 'a long bench passphrase';

await Promise.all(Array.from({ length: cores }, () => hashPassword(password)));
const single: number[] = [];
for (let i = 0; i < 5; i++) {
  const started = performance.now();
  await hashPassword(password);
  single.push(performance.now() - started);
}
single.sort((a, b) => a - b);

let hashes = 0;
const started = performance.now();
const end = started + durationSeconds * 1000;
// Twice as many callers as cores: the scheduler always has a hash waiting, as under a login storm.
await Promise.all(
  Array.from({ length: cores * 2 }, async () => {
    while (performance.now() < end) {
      await hashPassword(password);
      hashes += 1;
    }
  }),
);
const elapsedSeconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({
    cores,
    singleHashMilliseconds: Number(single[2]?.toFixed(1)),
    hashesPerSecond: Number((hashes / elapsedSeconds).toFixed(1)),
  })}\n`,
);
