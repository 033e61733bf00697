import type { FastifyInstance } from 'fastify';

/**
 * Once the app is closing, every answer carries `Connection: close`. The server stops accepting connections
 * and closes the idle ones when close() starts, but a keep-alive connection whose request was still in flight
 * would stay open after its answer (until the client or the keep-alive timeout ends it), and close() would
 * wait for it: a SIGTERM would take the whole shutdown timeout instead of the time the request needs.
 */
export function closeConnectionsOnShutdown(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
}
