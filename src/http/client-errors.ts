import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { errorCodes } from '../flows/errors.ts';
import type { ErrorBody } from './plugins/errors.ts';

/**
 * The whole request (headers and body) must arrive within this time: a client that trickles its bytes (a
 * slowloris) is answered 408 and cut off instead of holding a connection open forever. Bodies are at most
 * 16 KiB, so an honest client on a poor mobile link still has room to spare.
 */
export const requestTimeoutMilliseconds = 10_000;
/** How often Node checks the open connections against that deadline. */
export const connectionsCheckingIntervalMilliseconds = 1_000;

/**
 * Errors Node raises before a request reaches fastify (malformed HTTP, oversized headers, a request that
 * took too long), answered in the service's error shape. The raw bytes of such a request can hold a password
 * or an Authorization header, so only the error code is logged, never the error object with its packet.
 */
export function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const body: ErrorBody =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? { detail: errorCodes.request_timeout.message, code: 'request_timeout' }
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? { detail: errorCodes.headers_too_large.message, code: 'headers_too_large' }
        : { detail: 'Malformed HTTP request', code: 'invalid_request' };
  // A request that cannot be parsed is a 400, whatever the code's usual status (see the registry).
  const status = body.code === 'invalid_request' ? 400 : errorCodes[body.code].status;
  this.log.debug({ code: error.code, status }, 'client error');
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}
