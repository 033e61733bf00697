import type { Logger } from 'pino';
import type { Config, SmtpConfig } from '../config.ts';
import { startEmailDispatcher } from '../email/dispatcher.ts';
import type { EmailTransport } from '../email/transport.ts';
import { createConsoleTransport } from '../email/transports/console.ts';
import { createSmtpTransport } from '../email/transports/smtp.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Database } from '../storage/postgres/database.ts';
import { PostgresOutboxQueue } from '../storage/postgres/email-outbox.ts';
import type { OutboxEvents } from './outbox-events.ts';
import type { Locale } from '../security/locale.ts';
import type { EmailTemplateFiles } from '../email/templates/index.ts';

/** SMTP when SMTP_HOST is set, else the console. */
export function createEmailTransport(smtp: SmtpConfig | undefined): EmailTransport {
  return smtp !== undefined
    ? createSmtpTransport({ ...smtp, sendTimeoutMilliseconds: smtp.sendTimeoutSeconds * 1000 })
    : createConsoleTransport();
}

export interface EmailDeliveryOptions {
  readonly config: Config['email'];
  readonly database: Database;
  readonly outboxSecretBox: SecretBox;
  readonly transport: EmailTransport;
  /** `queued` wakes the dispatcher; every send's outcome is emitted as `delivered`. */
  readonly outboxEvents: OutboxEvents;
  readonly logger: Logger;
  /** True while mail should wait so that requests get the CPU (the API process under a hashing storm). */
  readonly deferWhile?: () => boolean;
  /** DEFAULT_LOCALE: the language of emails queued without one. */
  readonly defaultLocale: Locale;
  /** PRODUCT_NAME: named in every email, as on the pages. */
  readonly productName: string;
  /** EMAIL_TEMPLATES_DIR, read and checked at start-up (loadConfiguredEmailTemplates); absent: built-in. */
  readonly templateFiles: EmailTemplateFiles | undefined;
}

/** Starts draining the outbox from this process; returns the function that stops it (not the transport). */
export function startEmailDelivery(options: EmailDeliveryOptions): () => Promise<void> {
  const { config, outboxEvents } = options;
  const logger = options.logger.child({ component: 'email-dispatcher' });
  const dispatcher = startEmailDispatcher({
    queue: new PostgresOutboxQueue(options.database.db, {
      box: options.outboxSecretBox,
      onUnopenable(outboxId) {
        logger.warn(
          { outboxId },
          'email abandoned: sealed under a key that is neither SECRET_KEY nor in SECRET_KEY_PREVIOUS',
        );
        outboxEvents.emit('delivered', { outcome: 'abandoned', template: 'unknown' });
      },
    }),
    transport: options.transport,
    from: config.from,
    productName: options.productName,
    defaultLocale: options.defaultLocale,
    templateFiles: options.templateFiles,
    logger,
    pollIntervalMilliseconds: config.dispatcher.pollMilliseconds,
    // Outlasts every send (bounded by the send timeout), so a message is never leased twice at once;
    // a crashed dispatcher's mail is taken over when its lease runs out.
    leaseSeconds: 2 * (config.smtp?.sendTimeoutSeconds ?? 60),
    retryMaxMilliseconds: config.dispatcher.retryMaxDelaySeconds * 1000,
    ...(options.deferWhile === undefined
      ? {}
      : { deferWhile: options.deferWhile, maxDeferMilliseconds: config.dispatcher.maxDeferSeconds * 1000 }),
    onEvent: (event) => outboxEvents.emit('delivered', event),
  });
  const wake = (): void => dispatcher.wake();
  outboxEvents.on('queued', wake);
  return async () => {
    outboxEvents.off('queued', wake);
    await dispatcher.stop();
  };
}
