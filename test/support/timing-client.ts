// A worker thread that times HTTP requests from outside the service's event loop, as a remote client would:
// work the service does after answering cannot delay this thread's reading of the answer.
import { parentPort } from 'node:worker_threads';

export interface TimedRequest {
  readonly id: number;
  readonly url: string;
  readonly body: string;
  /** An `authorization` header (a bearer session), for routes that need a session. */
  readonly authorization?: string;
}

export interface TimedAnswer {
  readonly id: number;
  readonly status: number;
  readonly elapsedMilliseconds: number;
  /** Set when the request failed (connection refused, reset, timed out): no time was measured. */
  readonly error?: string;
}

const requestTimeoutMilliseconds = 10_000;

parentPort?.on('message', (request: TimedRequest) => {
  void (async () => {
    const started = performance.now();
    let answer: TimedAnswer;
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(request.authorization === undefined ? {} : { authorization: request.authorization }),
        },
        body: request.body,
        signal: AbortSignal.timeout(requestTimeoutMilliseconds),
      });
      await response.arrayBuffer();
      answer = { id: request.id, status: response.status, elapsedMilliseconds: performance.now() - started };
    } catch (error) {
      answer = { id: request.id, status: 0, elapsedMilliseconds: 0, error: String(error) };
    }
    parentPort?.postMessage(answer);
  })();
});
