import type { Logger } from 'pino';
import type { OutboxEntry, OutboxQueue } from '../flows/ports.ts';
import { startClaimLoop } from '../queue/claim-loop.ts';
import type { Locale } from '../security/locale.ts';
import { renderEmail, type EmailTemplateFiles } from './templates/index.ts';
import { classifySendFailure, type EmailTransport } from './transport.ts';

export interface EmailDispatcherOptions {
  readonly queue: OutboxQueue;
  readonly transport: EmailTransport;
  /** The From header, e.g. `Latchkey <noreply@example.com>`. */
  readonly from: string;
  readonly productName: string;
  /** The language of a message queued without one. */
  readonly defaultLocale: Locale;
  /** The operator's checked template files (EMAIL_TEMPLATES_DIR); absent: the built-in templates. */
  readonly templateFiles?: EmailTemplateFiles | undefined;
  readonly logger: Logger;
  /** How long to sleep after a short batch; wake() cuts the sleep short. */
  readonly pollIntervalMilliseconds: number;
  readonly batchSize?: number;
  /** Must outlast the transport's send timeout, or a slow send could be leased again and go out twice. */
  readonly leaseSeconds?: number;
  /** A temporary failure later than this after queueing abandons the email instead of retrying. */
  readonly retryWindowSeconds?: number;
  /** The first retry's upper bound; each further retry doubles it, up to retryMaxMilliseconds. */
  readonly retryBaseMilliseconds?: number;
  readonly retryMaxMilliseconds?: number;
  readonly now?: () => Date;
  /** In [0, 1); picks each retry delay within its bound (full jitter). */
  readonly random?: () => number;
  /**
   * How long stop() lets sends in flight finish before aborting them; an aborted email is queued again at
   * once, for another dispatcher (or this one after a restart). Keeps a shutdown bounded when SMTP stalls.
   */
  readonly stopGraceMilliseconds?: number;
  /**
   * True while the process has no CPU to spare (in the API process: every core is hashing a password and more
   * hashes wait). Mail then waits, up to maxDeferMilliseconds, so that the requests get the cores first.
   */
  readonly deferWhile?: () => boolean;
  /**
   * The longest mail is held back by deferWhile (0: never). Once reached, everything due is sent before the
   * dispatcher defers again, so under a storm that never ends mail is late by about this much, never more.
   */
  readonly maxDeferMilliseconds?: number;
  /** Told the outcome of every send (for metrics); must not throw. Carries no address, link or body. */
  readonly onEvent?: (event: EmailDispatchEvent) => void;
}

/** One send's outcome: `retry` is a temporary failure that will be tried again. */
export interface EmailDispatchEvent {
  readonly outcome: 'sent' | 'retry' | 'abandoned';
  readonly template: string;
}

export interface EmailDispatcher {
  /** A transaction just queued mail: claim now rather than at the next poll. */
  wake(): void;
  /**
   * Stops claiming, waits for the sends in flight (aborting those still running after the grace period),
   * then resolves. Does not close the transport.
   */
  stop(): Promise<void>;
}

const defaultBatchSize = 10;
const defaultLeaseSeconds = 120;
// Twice the longest link lifetime (24 h): a mail server down for a day still gets every message.
const defaultRetryWindowSeconds = 48 * 60 * 60;
const defaultRetryBaseMilliseconds = 5_000;
const defaultRetryMaxMilliseconds = 30 * 60 * 1000;
const defaultStopGraceMilliseconds = 5_000;
const lastErrorMaxLength = 500;
// How often a deferring dispatcher looks again whether the cores are free.
const deferCheckMilliseconds = 100;

/**
 * Drains the outbox: claims due entries, renders and sends them, records the outcome. Delivery is at least
 * once: a crash between the server's acceptance and markEmailSent sends the message again after the lease,
 * under the same Message-ID.
 *
 * What it logs is chosen so that no log line carries a link, a token or a body: outbox id, recipient domain,
 * SMTP codes.
 */
export function startEmailDispatcher(options: EmailDispatcherOptions): EmailDispatcher {
  const batchSize = options.batchSize ?? defaultBatchSize;
  const leaseSeconds = options.leaseSeconds ?? defaultLeaseSeconds;
  const retryWindowMilliseconds = (options.retryWindowSeconds ?? defaultRetryWindowSeconds) * 1000;
  const retryBaseMilliseconds = options.retryBaseMilliseconds ?? defaultRetryBaseMilliseconds;
  const retryMaxMilliseconds = options.retryMaxMilliseconds ?? defaultRetryMaxMilliseconds;
  const now = options.now ?? ((): Date => new Date());
  const random = options.random ?? Math.random;
  const stopGraceMilliseconds = options.stopGraceMilliseconds ?? defaultStopGraceMilliseconds;
  const maxDeferMilliseconds = options.maxDeferMilliseconds ?? 0;
  const { queue, transport, logger } = options;

  // One controller per send in flight, so stop() can cut sends that outlast the grace period.
  const sendsInFlight = new Set<AbortController>();

  async function deliverEntry(entry: OutboxEntry): Promise<void> {
    const recipientDomain = extractRecipientDomain(entry.message.to);
    const logContext = {
      outboxId: entry.id,
      template: entry.message.template,
      recipientDomain,
      attempts: entry.attempts,
    };
    let rendered;
    try {
      rendered = renderEmail(entry.message, {
        productName: options.productName,
        defaultLocale: options.defaultLocale,
        ...(options.templateFiles === undefined ? {} : { templateFiles: options.templateFiles }),
      });
    } catch (error) {
      // Rendering is pure: it fails the same way every time, so retrying would only delay the verdict.
      logger.error({ ...logContext, reason: describeError(error) }, 'email abandoned: it cannot be rendered');
      await recordOutcome(entry, () =>
        queue.markEmailAbandoned(entry.id, `render failed: ${describeError(error)}`),
      );
      report('abandoned', entry);
      return;
    }

    const controller = new AbortController();
    sendsInFlight.add(controller);
    try {
      await transport.send(
        { from: options.from, to: entry.message.to, messageId: entry.messageId, ...rendered },
        { signal: controller.signal },
      );
    } catch (error) {
      if (controller.signal.aborted) {
        // Cut short by stop(): not the message's fault, so no backoff; it is due again at once.
        logger.warn(logContext, 'email send interrupted by shutdown, queued again');
        await recordOutcome(entry, () =>
          queue.scheduleEmailRetry(entry.id, now(), 'send interrupted by a dispatcher shutdown'),
        );
        return;
      }
      await handleSendFailure(entry, error, logContext);
      return;
    } finally {
      sendsInFlight.delete(controller);
    }
    logger.info(logContext, 'email sent');
    await recordOutcome(entry, () => queue.markEmailSent(entry.id, now()));
    report('sent', entry);
  }

  function report(outcome: EmailDispatchEvent['outcome'], entry: OutboxEntry): void {
    try {
      options.onEvent?.({ outcome, template: entry.message.template });
    } catch (error) {
      logger.error({ err: error }, 'email dispatch observer failed');
    }
  }

  async function handleSendFailure(entry: OutboxEntry, error: unknown, logContext: object): Promise<void> {
    const failure = { ...logContext, ...describeSmtpFailure(error) };
    const lastError = describeError(error).slice(0, lastErrorMaxLength);
    if (classifySendFailure(error) === 'permanent') {
      logger.warn(failure, 'email abandoned: the server refused it permanently');
      await recordOutcome(entry, () => queue.markEmailAbandoned(entry.id, lastError));
      report('abandoned', entry);
      return;
    }
    const attemptAt = now();
    if (attemptAt.getTime() - entry.createdAt.getTime() >= retryWindowMilliseconds) {
      logger.warn(failure, 'email abandoned: still failing at the end of its retry window');
      await recordOutcome(entry, () => queue.markEmailAbandoned(entry.id, lastError));
      report('abandoned', entry);
      return;
    }
    const delayMilliseconds = computeRetryDelayMilliseconds(entry.attempts);
    logger.warn({ ...failure, retryInMilliseconds: delayMilliseconds }, 'email send failed, will retry');
    await recordOutcome(entry, () =>
      queue.scheduleEmailRetry(entry.id, new Date(attemptAt.getTime() + delayMilliseconds), lastError),
    );
    report('retry', entry);
  }

  /** Exponential backoff with full jitter, so a recovering server is not hit by every retry at once. */
  function computeRetryDelayMilliseconds(attempts: number): number {
    // `attempts` counts the claim that just failed, so the first failure uses the base bound.
    const exponent = Math.min(Math.max(attempts - 1, 0), 30);
    const boundMilliseconds = Math.min(retryMaxMilliseconds, retryBaseMilliseconds * 2 ** exponent);
    return Math.floor(random() * boundMilliseconds);
  }

  async function recordOutcome(entry: OutboxEntry, record: () => Promise<void>): Promise<void> {
    try {
      await record();
    } catch (error) {
      // The lease runs out and the entry is claimed again: at worst the message goes out twice.
      logger.error({ outboxId: entry.id, err: error }, 'email outbox update failed');
    }
  }

  // When the current deferral began; a deferral that reaches its bound drains the outbox before the next.
  let deferringSince: number | undefined;
  let draining = false;

  function deferClaimMilliseconds(): number {
    if (!draining && maxDeferMilliseconds > 0 && options.deferWhile?.() === true) {
      deferringSince ??= Date.now();
      if (Date.now() - deferringSince < maxDeferMilliseconds) return deferCheckMilliseconds;
      draining = true;
    }
    deferringSince = undefined;
    return 0;
  }

  async function claimEntries(limit: number): Promise<OutboxEntry[]> {
    const entries = await queue.claimDueEmails(limit, now(), leaseSeconds);
    // Everything due is going out: a new deferral may begin after this batch.
    if (entries.length < limit) draining = false;
    return entries;
  }

  const loop = startClaimLoop({
    claimBatch: claimEntries,
    deliver: deliverEntry,
    batchSize,
    pollIntervalMilliseconds: options.pollIntervalMilliseconds,
    deferClaimMilliseconds,
    onClaimFailed: (error, retryInMilliseconds) =>
      logger.error({ err: error, retryInMilliseconds }, 'email outbox claim failed'),
    onLoopFailed: (error) => logger.fatal({ err: error }, 'email dispatcher stopped unexpectedly'),
  });
  let stopped: Promise<void> | null = null;

  return {
    wake(): void {
      loop.wake();
    },
    stop(): Promise<void> {
      if (stopped === null) {
        const abortTimer = setTimeout(() => {
          for (const controller of sendsInFlight) controller.abort();
        }, stopGraceMilliseconds);
        stopped = loop.stop().finally(() => clearTimeout(abortTimer));
      }
      return stopped;
    },
  };
}

function extractRecipientDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Only codes: an SMTP reply text can quote the full address, and the log gets the domain alone. */
function describeSmtpFailure(error: unknown): { code?: string; responseCode?: number; command?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const { code, responseCode, command } = error as {
    code?: unknown;
    responseCode?: unknown;
    command?: unknown;
  };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof responseCode === 'number' ? { responseCode } : {}),
    ...(typeof command === 'string' ? { command } : {}),
  };
}

/** For the outbox row's last_error, which sits beside the recipient anyway; SMTP reply texts are not logged. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
