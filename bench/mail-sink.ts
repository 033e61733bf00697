// A capture SMTP server for load runs: it counts every message and parses only those sent to the addresses
// the bench waits on, so hundreds of mails a second cost the shared cores little besides the SMTP exchange.
import { simpleParser } from 'mailparser';
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface MailSink {
  readonly port: number;
  /** Messages accepted so far. */
  readonly count: number;
  /** The plain-text body of the next message to `address` (case-insensitive), at most `timeoutMilliseconds` away. */
  waitForText(address: string, timeoutMilliseconds?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startMailSink(): Promise<MailSink> {
  let count = 0;
  const waiting = new Map<string, (text: string) => void>();
  const sockets = new Set<Socket>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    // The dispatcher keeps pooled connections open; without this they would hold stop() forever.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      const recipient = session.envelope.rcptTo[0]?.address.toLowerCase() ?? '';
      const deliver = waiting.get(recipient);
      if (deliver === undefined) {
        stream.on('data', () => {});
        stream.on('end', () => {
          count += 1;
          callback();
        });
        return;
      }
      waiting.delete(recipient);
      simpleParser(stream)
        .then((parsed) => {
          count += 1;
          deliver(parsed.text ?? '');
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('mail sink has no TCP address');

  return {
    port: address.port,
    get count(): number {
      return count;
    },
    waitForText(recipient, timeoutMilliseconds = 30_000): Promise<string> {
      return new Promise((resolve, reject) => {
        const key = recipient.toLowerCase();
        const timer = setTimeout(() => {
          waiting.delete(key);
          reject(new Error(`no mail to ${recipient} within ${timeoutMilliseconds} ms`));
        }, timeoutMilliseconds);
        waiting.set(key, (text) => {
          clearTimeout(timer);
          resolve(text);
        });
      });
    },
    async stop(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
