import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { RateLimiter } from '../../flows/ports.ts';
import { sendError } from './errors.ts';
import { logSecurityEvent, submittedEmailKey } from '../security-log.ts';

/** Per client IP, per route: the first layer; later layers (per account, per recipient) live in the flows. */
export function limitByClientIp(
  limiter: RateLimiter | undefined,
  route: string,
  /** How the refusal is answered (a page for the hosted pages); the JSON error by default. */
  answerRefusal: (reply: FastifyReply) => FastifyReply = (reply) => sendError(reply, 'rate_limited'),
): preHandlerAsyncHookHandler {
  const spend = spendClientIpBudget(limiter, route, answerRefusal);
  return async function checkClientIpBudget(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    return (await spend(request, reply)) ? reply : undefined;
  };
}

/**
 * Spends a point of the client's budget; true when there was none left and the refusal is answered. (A boolean,
 * not the reply: a reply is thenable, so awaiting it would wait for the answer to be sent.)
 */
function spendClientIpBudget(
  limiter: RateLimiter | undefined,
  route: string,
  answerRefusal: (reply: FastifyReply) => FastifyReply,
): (request: FastifyRequest, reply: FastifyReply) => Promise<boolean> {
  return async (request, reply) => {
    if (limiter === undefined) return false;
    const decision = await limiter.consume(`${route}:${request.ip}`);
    if (decision.allowed) return false;
    logSecurityEvent(request, 'throttled', {
      outcome: 'rate_limited',
      layer: 'ip',
      emailKey: submittedEmailKey(request),
    });
    reply.header('retry-after', String(decision.retryAfterSeconds));
    answerRefusal(reply);
    return true;
  };
}

/** A per-IP budget that only refusals keep: every request spends a point, a request found legitimate returns it. */
export interface RefusalBudget {
  /** Spends a point; over budget, answers 429 (and logs the throttling) and is true: nothing else may run. */
  readonly check: (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>;
  /** Gives back the point `check` spent for this request. */
  readonly refund: (request: FastifyRequest) => Promise<void>;
}

/**
 * Per client IP, per route, counting refusals only (`ip.admin`): the point is spent before the caller is
 * checked, so concurrent guesses cannot outrun the budget, and given back as soon as the caller is accepted,
 * so an accepted caller never throttles itself. Over budget, every request waits, the right caller included.
 */
export function limitRefusalsByClientIp(limiter: RateLimiter | undefined, route: string): RefusalBudget {
  return {
    check: spendClientIpBudget(limiter, route, (reply) => sendError(reply, 'rate_limited')),
    refund: async (request) => {
      await limiter?.refund(`${route}:${request.ip}`);
    },
  };
}
