import { createTransport } from 'nodemailer';
import type { EmailTransport, OutgoingEmail } from '../transport.ts';

export interface SmtpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** 'tls': implicit TLS (465); 'starttls': plain connect, TLS required before AUTH (587); 'none': local relays only. */
  readonly security: 'tls' | 'starttls' | 'none';
  readonly username?: string;
  readonly password?: string;
  readonly poolSize: number;
  readonly connectionTimeoutMilliseconds?: number;
  readonly greetingTimeoutMilliseconds?: number;
  readonly socketTimeoutMilliseconds?: number;
  /**
   * Upper bound on one send, waiting for a pooled connection included. It catches what the socket timeout
   * cannot (a server trickling one byte at a time) and must stay below the dispatcher's lease, or a slow
   * send could outlive its lease and the message go out twice.
   */
  readonly sendTimeoutMilliseconds?: number;
}

const defaultConnectionTimeoutMilliseconds = 10_000;
const defaultGreetingTimeoutMilliseconds = 10_000;
const defaultSocketTimeoutMilliseconds = 30_000;
const defaultSendTimeoutMilliseconds = 60_000;

/** Pooled SMTP: a few long-lived connections shared by every send instead of a handshake per email. */
export function createSmtpTransport(options: SmtpTransportOptions): EmailTransport {
  const auth =
    options.username !== undefined && options.password !== undefined
      ? { user: options.username, pass: options.password }
      : undefined;
  const mailer = createTransport({
    pool: true,
    maxConnections: options.poolSize,
    host: options.host,
    port: options.port,
    secure: options.security === 'tls',
    // 'starttls' must never fall back to plain text, or a stripped STARTTLS would leak the credentials.
    requireTLS: options.security === 'starttls',
    ignoreTLS: options.security === 'none',
    ...(auth === undefined ? {} : { auth }),
    connectionTimeout: options.connectionTimeoutMilliseconds ?? defaultConnectionTimeoutMilliseconds,
    greetingTimeout: options.greetingTimeoutMilliseconds ?? defaultGreetingTimeoutMilliseconds,
    socketTimeout: options.socketTimeoutMilliseconds ?? defaultSocketTimeoutMilliseconds,
    // Messages are built from our own strings only: no attachment may read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    // nodemailer's own log would print addresses; the dispatcher logs what is safe to log.
    logger: false,
  });
  const sendTimeoutMilliseconds = options.sendTimeoutMilliseconds ?? defaultSendTimeoutMilliseconds;

  return {
    async send(email: OutgoingEmail, sendOptions: { readonly signal?: AbortSignal } = {}): Promise<void> {
      const timeout = AbortSignal.timeout(sendTimeoutMilliseconds);
      await mailer.sendMail({
        from: email.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        signal: sendOptions.signal === undefined ? timeout : AbortSignal.any([timeout, sendOptions.signal]),
      });
    },
    async verify(): Promise<void> {
      await mailer.verify();
    },
    async close(): Promise<void> {
      mailer.close();
    },
  };
}
