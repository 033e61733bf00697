import { simpleParser, type AddressObject } from 'mailparser';
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One email as a test reads it. */
export interface CapturedEmail {
  readonly to: string;
  readonly from: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly messageId: string;
  /** Absolute http(s) URLs found in the plain-text part, in order. */
  readonly links: string[];
}

export interface SmtpCapture {
  readonly port: number;
  /** Every accepted email, in the order the server accepted them. */
  readonly messages: CapturedEmail[];
  /** Resolves with the first email (already captured or still to come) that matches; rejects after the timeout. */
  waitForEmail(
    predicate: (email: CapturedEmail) => boolean,
    timeoutMilliseconds?: number,
  ): Promise<CapturedEmail>;
  /** The next RCPT TO for that address (case-insensitive) is answered with that code and message. */
  rejectRecipient(address: string, code: number, message: string): void;
  /** Closes at once, cutting open (pooled) client connections, as a crashed server would. */
  stop(): Promise<void>;
  /** Listens again on the same port after stop(). */
  restart(): Promise<void>;
}

const defaultWaitMilliseconds = 5_000;

/** An SMTP server on 127.0.0.1 (no TLS, AUTH optional) that captures what it receives. */
export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedEmail[] = [];
  const waiters = new Set<() => void>();
  const rejections = new Map<string, { code: number; message: string }>();
  let server: SMTPServer | null = null;
  let sockets = new Set<Socket>();
  let port = 0;

  function createServer(): SMTPServer {
    return new SMTPServer({
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      logger: false,
      onRcptTo(address, _session, callback) {
        const key = address.address.toLowerCase();
        const rejection = rejections.get(key);
        if (rejection === undefined) return callback();
        rejections.delete(key);
        const error = Object.assign(new Error(rejection.message), { responseCode: rejection.code });
        return callback(error);
      },
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            const text = parsed.text ?? '';
            messages.push({
              to: readFirstAddress(parsed.to),
              from: readFirstAddress(parsed.from),
              subject: parsed.subject ?? '',
              text,
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId ?? '',
              links: text.match(/https?:\/\/[^\s<>"]+/g) ?? [],
            });
            for (const notify of [...waiters]) notify();
            callback();
          })
          .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
      },
    });
  }

  async function listen(requestedPort: number): Promise<void> {
    const created = createServer();
    const tracked = new Set<Socket>();
    created.server.on('connection', (socket: Socket) => {
      tracked.add(socket);
      socket.once('close', () => tracked.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      created.server.once('error', reject);
      created.listen(requestedPort, '127.0.0.1', () => {
        created.server.off('error', reject);
        resolve();
      });
    });
    const address = created.server.address();
    if (address === null || typeof address === 'string') throw new Error('SMTP capture has no TCP address');
    port = address.port;
    server = created;
    sockets = tracked;
  }

  async function stop(): Promise<void> {
    const closing = server;
    if (closing === null) return;
    server = null;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  await listen(0);

  return {
    get port(): number {
      return port;
    },
    messages,
    waitForEmail(predicate, timeoutMilliseconds = defaultWaitMilliseconds): Promise<CapturedEmail> {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = messages.find(predicate);
          if (found === undefined) return false;
          waiters.delete(onMessage);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const onMessage = (): void => {
          check();
        };
        const timer = setTimeout(() => {
          waiters.delete(onMessage);
          reject(
            new Error(`no matching email within ${timeoutMilliseconds} ms (${messages.length} captured)`),
          );
        }, timeoutMilliseconds);
        waiters.add(onMessage);
        check();
      });
    },
    rejectRecipient(address: string, code: number, message: string): void {
      rejections.set(address.toLowerCase(), { code, message });
    },
    stop,
    async restart(): Promise<void> {
      await stop();
      await listen(port);
    },
  };
}

function readFirstAddress(field: AddressObject | AddressObject[] | undefined): string {
  const first = Array.isArray(field) ? field[0] : field;
  return first?.value[0]?.address ?? '';
}
