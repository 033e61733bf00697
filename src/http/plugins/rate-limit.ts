import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { RateLimiter } from '../../flows/ports.ts';
import { sendError } from './errors.ts';

/** Per client IP, per route: the first layer; later layers (per account, per recipient) live in the flows. */
export function limitByClientIp(limiter: RateLimiter | undefined, route: string): preHandlerAsyncHookHandler {
  return async function checkClientIpBudget(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (limiter === undefined) return;
    const decision = await limiter.consume(`${route}:${request.ip}`);
    if (decision.allowed) return;
    request.log.info({ route, ip: request.ip, outcome: 'throttled' }, 'rate limit reached');
    reply.header('retry-after', String(decision.retryAfterSeconds));
    await sendError(reply, 429, { detail: 'Too many requests, try again later', code: 'rate_limited' });
  };
}
