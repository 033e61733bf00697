import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { hashPassword } from '../../src/security/passwords.ts';
import { createRandom } from '../support/fuzz.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import { mannWhitneyU, median } from '../support/statistics.ts';
import type { TimedAnswer, TimedRequest } from '../support/timing-client.ts';

/**
 * Whether an address has an account must not show in how long the answer takes. Each flow is timed for a
 * known and an unknown address, in random interleaved order after a warm-up; it passes when the medians are
 * within max(5 ms, 10 %) of each other, or when a Mann-Whitney U test cannot tell the samples apart
 * (p > 0.01). Rate limits are off (the test service's default), so no sample is throttled.
 */
const warmUpPerClass = 15;
const samplesPerClass = { hashing: 150, cheap: 250 };
const absoluteToleranceMilliseconds = 5;
const relativeTolerance = 0.1;
const significance = 0.01;

const password = 'saffron cobalt meadow';
const otherPassword = 'a different long passphrase';

interface Probe {
  readonly name: string;
  readonly send: (index: number) => Promise<number>;
}

/** Times requests from a worker thread: the test's own event loop is shared with the service under test. */
class TimingClient {
  readonly #worker = new Worker(new URL('../support/timing-client.ts', import.meta.url));
  readonly #waiting = new Map<number, (answer: TimedAnswer) => void>();
  #nextId = 0;
  constructor() {
    this.#worker.on('message', (answer: TimedAnswer) => this.#waiting.get(answer.id)?.(answer));
    // A worker that dies must fail the waiting sample, not leave the test waiting for ever.
    this.#worker.on('error', (error) => this.#failAll(String(error)));
    this.#worker.on('exit', (code) => this.#failAll(`timing worker exited with ${code}`));
  }

  #failAll(reason: string): void {
    for (const [id, resolve] of this.#waiting)
      resolve({ id, status: 0, elapsedMilliseconds: 0, error: reason });
    this.#waiting.clear();
  }

  async timePost(
    url: string,
    body: unknown,
    expectedStatus: number,
    authorization?: string,
  ): Promise<number> {
    const id = (this.#nextId += 1);
    const request: TimedRequest = {
      id,
      url,
      body: JSON.stringify(body),
      ...(authorization === undefined ? {} : { authorization }),
    };
    const answer = await new Promise<TimedAnswer>((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.postMessage(request);
    });
    this.#waiting.delete(id);
    assert.equal(answer.error, undefined, `${url} failed: ${answer.error}`);
    assert.equal(answer.status, expectedStatus, `${url} answered ${answer.status}`);
    return answer.elapsedMilliseconds;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

/** Interleaves the two classes in a seeded random order, so drift (GC, the dispatcher, disk) hits both alike. */
async function compare(
  t: TestContext,
  flow: string,
  known: Probe,
  unknown: Probe,
  samples: number,
): Promise<void> {
  const random = createRandom(samples * 7919 + flow.length);
  const knownTimes: number[] = [];
  const unknownTimes: number[] = [];
  const order = [
    ...Array.from({ length: warmUpPerClass + samples }, () => true),
    ...Array.from({ length: warmUpPerClass + samples }, () => false),
  ];
  for (let index = order.length - 1; index > 0; index -= 1) {
    const other = random.integer(0, index);
    [order[index], order[other]] = [order[other] ?? false, order[index] ?? false];
  }
  let knownSent = 0;
  let unknownSent = 0;
  for (const isKnown of order) {
    if (isKnown) {
      const elapsed = await known.send(knownSent);
      knownSent += 1;
      if (knownSent > warmUpPerClass) knownTimes.push(elapsed);
    } else {
      const elapsed = await unknown.send(unknownSent);
      unknownSent += 1;
      if (unknownSent > warmUpPerClass) unknownTimes.push(elapsed);
    }
  }
  const knownMedian = median(knownTimes);
  const unknownMedian = median(unknownTimes);
  const difference = Math.abs(knownMedian - unknownMedian);
  const tolerance = Math.max(
    absoluteToleranceMilliseconds,
    relativeTolerance * Math.max(knownMedian, unknownMedian),
  );
  const { p } = mannWhitneyU(knownTimes, unknownTimes);
  const summary =
    `${flow}: ${known.name} median ${knownMedian.toFixed(2)} ms, ${unknown.name} median ` +
    `${unknownMedian.toFixed(2)} ms, difference ${difference.toFixed(2)} ms (tolerance ${tolerance.toFixed(2)}), ` +
    `Mann-Whitney p = ${p.toPrecision(3)}, n = ${samples} + ${samples}`;
  t.diagnostic(summary);
  assert.ok(difference < tolerance || p > significance, summary);
}

const verified = `timing.verified@example.com`;
const unverified = `timing.unverified@example.com`;
/** Deleted by its owner, within the grace period: login must answer as for an unknown address. */
const deleted = `timing.deleted@example.com`;
/** Signed in, asking to move to an address that is taken (`verified`) or free. */
const mover = `timing.mover@example.com`;

/** One rule: the same route for an address with an account and for one without. */
interface Comparison {
  readonly title: string;
  /** Its route; without the slash, the flow's name in the verdict. */
  readonly path: `/${string}`;
  readonly status: number;
  readonly samples: number;
  readonly known: { readonly name: string; readonly body: unknown };
  readonly unknown: { readonly name: string; readonly body: (index: number) => unknown };
  /** Sent with the session of `mover`. */
  readonly signedIn?: boolean;
}

const comparisons: readonly Comparison[] = [
  {
    title: 'login: unknown address vs known address with a wrong password',
    path: '/login',
    status: 401,
    samples: samplesPerClass.hashing,
    known: { name: 'wrong password', body: { email: verified, password: otherPassword } },
    unknown: {
      name: 'unknown address',
      body: (index) => ({ email: `ghost.${index}@example.com`, password: otherPassword }),
    },
  },
  {
    title: 'login: unknown address vs a deleted account with its right password',
    path: '/login',
    status: 401,
    samples: samplesPerClass.hashing,
    known: { name: 'deleted account', body: { email: deleted, password } },
    unknown: {
      name: 'unknown address',
      body: (index) => ({ email: `gone.${index}@example.com`, password }),
    },
  },
  {
    title: 'register: a new address vs a taken one',
    path: '/register',
    status: 200,
    samples: samplesPerClass.hashing,
    known: { name: 'taken address', body: { email: verified, password: otherPassword } },
    unknown: {
      name: 'new address',
      body: (index) => ({ email: `new.${index}@example.com`, password: otherPassword }),
    },
  },
  {
    title: 'request-password-reset: known vs unknown address',
    path: '/request-password-reset',
    status: 202,
    samples: samplesPerClass.cheap,
    known: { name: 'known address', body: { email: verified } },
    unknown: { name: 'unknown address', body: (index) => ({ email: `ghost.${index}@example.com` }) },
  },
  {
    title: 'resend-verification: known unverified vs unknown address',
    path: '/resend-verification',
    status: 202,
    samples: samplesPerClass.cheap,
    known: { name: 'unverified account', body: { email: unverified } },
    unknown: { name: 'unknown address', body: (index) => ({ email: `ghost.${index}@example.com` }) },
  },
  {
    title: 'me/email: a free new address vs a taken one',
    path: '/me/email',
    status: 202,
    samples: samplesPerClass.hashing,
    signedIn: true,
    known: { name: 'taken address', body: { new_email: verified, current_password: password } },
    unknown: {
      name: 'free address',
      body: (index) => ({ new_email: `free.${index}@example.com`, current_password: password }),
    },
  },
];

for (const backend of availableBackends()) {
  describe(`response time does not tell whether an address has an account (${backend})`, () => {
    let service: TestService;
    let client: TimingClient;
    let authorization: string;
    before(async () => {
      service = await startTestService(backend);
      client = new TimingClient();
      const hash = await hashPassword(password);
      await service.query(
        `insert into users (email, email_key, password_hash, is_verified) values ($1, $1, $3, true), ($2, $2, $3, false), ($4, $4, $3, true)`,
        [verified, unverified, hash, mover],
      );
      await service.query(
        `insert into users (email, email_key, password_hash, is_verified, deleted_at) values ($1, $1, $2, true, now())`,
        [deleted, hash],
      );
      const login = await fetch(`${service.baseUrl}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: mover, password }),
      });
      assert.equal(login.status, 200);
      authorization = `Bearer ${((await login.json()) as { access_token: string }).access_token}`;
    });
    after(async () => {
      await client?.close();
      await service?.close();
    });

    for (const { title, path, status, samples, known, unknown, signedIn } of comparisons) {
      test(title, async (t) => {
        const url = `${service.baseUrl}${path}`;
        const session = signedIn === true ? authorization : undefined;
        await compare(
          t,
          path.slice(1),
          { name: known.name, send: () => client.timePost(url, known.body, status, session) },
          {
            name: unknown.name,
            send: (index) => client.timePost(url, unknown.body(index), status, session),
          },
          samples,
        );
      });
    }
  });
}
