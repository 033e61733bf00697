import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.ts';

/**
 * For API-only routes: a cross-site HTML form can post form bodies without any CORS preflight, so taking
 * only JSON on /login and /register stops a third-party page from logging a browser into an account.
 */
export async function requireJsonBody(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) return;
  return sendError(reply, 'unsupported_media_type', { detail: 'Send the body as application/json' });
}
