import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One POST as a receiver got it. */
export interface ReceivedWebhook {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly receivedAt: Date;
}

export interface WebhookReceiver {
  readonly port: number;
  readonly received: ReceivedWebhook[];
  url(path: string): string;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1: records every request and answers with what `answer` says (a status and
 * extra headers). `port` 0 picks a free one.
 */
export async function startWebhookReceiver(
  answer: (
    request: ReceivedWebhook,
    received: readonly ReceivedWebhook[],
  ) => {
    status: number;
    headers?: Record<string, string>;
  },
  port = 0,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (typeof value === 'string') headers[name] = value;
      const entry = { path: request.url ?? '', headers, body, receivedAt: new Date() };
      received.push(entry);
      const reply = answer(entry, received);
      response.writeHead(reply.status, reply.headers ?? {});
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    port: boundPort,
    received,
    url: (path) => `http://127.0.0.1:${String(boundPort)}${path}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
