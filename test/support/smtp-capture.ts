import { simpleParser, type AddressObject } from 'mailparser';
import { createServer as createNetServer, type Socket } from 'node:net';
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

export interface SmtpCaptureOptions {
  /**
   * Which messages to parse and keep, by their first envelope recipient (lower case); default all. The
   * others are read to the end, accepted and counted, nothing more: a load of hundreds of messages a second
   * then costs little besides the SMTP exchange itself.
   */
  readonly keep?: (recipient: string) => boolean;
}

export interface SmtpCapture {
  readonly port: number;
  /** Every accepted email that was kept, in the order the server accepted them. */
  readonly messages: CapturedEmail[];
  /** How many messages were accepted, kept or not. */
  readonly acceptedCount: number;
  /** Resolves with the first email (already captured or still to come) that matches; rejects after the timeout. */
  waitForEmail(
    predicate: (email: CapturedEmail) => boolean,
    timeoutMilliseconds?: number,
  ): Promise<CapturedEmail>;
  /** The next RCPT TO for that address (case-insensitive) is answered with that code and message. */
  rejectRecipient(address: string, code: number, message: string): void;
  /**
   * Holds every received message this long before accepting it (250), as a slow server would. A message
   * whose client disconnects meanwhile is not accepted and not captured: its sender never got a 250.
   */
  holdAcceptance(milliseconds: number): void;
  /** How many times each Message-ID was accepted. */
  countByMessageId(): Map<string, number>;
  /** Closes at once, cutting open (pooled) client connections, as a crashed server would. */
  stop(): Promise<void>;
  /** Listens again on the same port after stop(). */
  restart(): Promise<void>;
}

const defaultWaitMilliseconds = 5_000;

/** An SMTP server on 127.0.0.1 (no TLS, AUTH optional) that captures what it receives. */
export async function startSmtpCapture(options: SmtpCaptureOptions = {}): Promise<SmtpCapture> {
  const messages: CapturedEmail[] = [];
  let acceptedCount = 0;
  const waiters = new Set<() => void>();
  const rejections = new Map<string, { code: number; message: string }>();
  const closedSessions = new Set<string>();
  let acceptanceDelayMilliseconds = 0;
  let server: SMTPServer | null = null;
  let sockets = new Set<Socket>();
  let port = 0;

  function createServer(): SMTPServer {
    return new SMTPServer({
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      logger: false,
      onClose(session) {
        closedSessions.add(session.id);
      },
      onRcptTo(address, _session, callback) {
        const key = address.address.toLowerCase();
        const rejection = rejections.get(key);
        if (rejection === undefined) return callback();
        rejections.delete(key);
        const error = Object.assign(new Error(rejection.message), { responseCode: rejection.code });
        return callback(error);
      },
      onData(stream, session, callback) {
        const recipient = session.envelope.rcptTo[0]?.address.toLowerCase() ?? '';
        if (options.keep !== undefined && !options.keep(recipient)) {
          stream.on('data', () => {});
          stream.on('end', () => {
            acceptedCount += 1;
            callback();
          });
          return;
        }
        simpleParser(stream)
          .then(async (parsed) => {
            if (acceptanceDelayMilliseconds > 0) {
              await new Promise((resolve) => setTimeout(resolve, acceptanceDelayMilliseconds));
              if (closedSessions.has(session.id)) {
                callback(new Error('client gone before acceptance'));
                return;
              }
            }
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
            acceptedCount += 1;
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
    get acceptedCount(): number {
      return acceptedCount;
    },
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
    holdAcceptance(milliseconds: number): void {
      acceptanceDelayMilliseconds = milliseconds;
    },
    countByMessageId(): Map<string, number> {
      const counts = new Map<string, number>();
      for (const email of messages) counts.set(email.messageId, (counts.get(email.messageId) ?? 0) + 1);
      return counts;
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

/**
 * A server that accepts TCP connections and never says a word (no greeting, no reply): the worst SMTP
 * server, the one a client can only leave by its own timeouts.
 */
export async function startSilentSmtpServer(): Promise<{
  readonly port: number;
  connectionCount(): number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createNetServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    connectionCount: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
