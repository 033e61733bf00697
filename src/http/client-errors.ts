import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

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
  const [status, code, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'Request headers too large']
        : [400, 'invalid_request', 'Malformed HTTP request'];
  this.log.debug({ code: error.code, status }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ detail, code });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
