import type { FastifyReply } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The routes that answer the same for every address do more work for an address with an account (a token and
 * an email committed before the answer, so a crash cannot lose them). They answer no sooner than this after
 * the request arrived, well above that work's cost, so the response time does not tell the two apart.
 */
export const uniformAnswerMilliseconds = 60;

/** Waits (on a timer, never blocking the event loop) until the uniform answer time of this request. */
export async function waitForUniformAnswerTime(reply: FastifyReply): Promise<void> {
  const remainingMilliseconds = uniformAnswerMilliseconds - reply.elapsedTime;
  if (remainingMilliseconds > 0) await sleep(remainingMilliseconds);
}
