import type { FastifyInstance } from 'fastify';
import { sendServiceUnavailable } from './errors.ts';

/**
 * Once the app is closing, every answer carries `Connection: close`. The server stops accepting connections
 * and closes the idle ones when close() starts, but a keep-alive connection whose request was still in flight
 * would stay open after its answer (until the client or the keep-alive timeout ends it), and close() would
 * wait for it: a SIGTERM would take the whole shutdown timeout instead of the time the request needs.
 *
 * A request that still arrives (on such a connection) is answered 503 `service_unavailable` at once, in the
 * service's error shape: fastify's own `return503OnClosing` answer has another body, so it is turned off.
 * Registered before every other hook, so such a request does no work.
 */
export function closeConnectionsOnShutdown(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: it runs on every request, and costs no promise this way.
  app.addHook('onRequest', (_request, reply, done) => {
    if (closing) sendServiceUnavailable(reply);
    else done();
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
}
