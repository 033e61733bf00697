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
  return async function checkClientIpBudget(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    if (limiter === undefined) return;
    const decision = await limiter.consume(`${route}:${request.ip}`);
    if (decision.allowed) return;
    logSecurityEvent(request, 'throttled', {
      outcome: 'rate_limited',
      layer: 'ip',
      emailKey: submittedEmailKey(request),
    });
    reply.header('retry-after', String(decision.retryAfterSeconds));
    return answerRefusal(reply);
  };
}
