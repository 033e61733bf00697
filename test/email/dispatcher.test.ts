import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import { pino } from 'pino';
import type { EmailMessage } from '../../src/flows/model.ts';
import {
  startEmailDispatcher,
  type EmailDispatcher,
  type EmailDispatcherOptions,
} from '../../src/email/dispatcher.ts';
import type { EmailTransport, OutgoingEmail } from '../../src/email/transport.ts';
import { createSmtpTransport } from '../../src/email/transports/smtp.ts';
import { MemoryOutboxQueue } from '../support/memory-outbox-queue.ts';
import { startSilentSmtpServer, startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.ts';

const from = 'Latchkey <noreply@latchkey.test>';
// Short enough that a test waiting on them takes well under a second.
const quickTimeouts = {
  connectionTimeoutMilliseconds: 300,
  greetingTimeoutMilliseconds: 300,
  socketTimeoutMilliseconds: 300,
  sendTimeoutMilliseconds: 1_000,
};

function buildVerifyEmail(to: string, token: string): EmailMessage {
  return {
    template: 'verify_email',
    to,
    params: { url: `https://auth.latchkey.test/verify-email?token=${token}` },
  };
}

/** Everything a test started, closed in reverse order after it, whatever the outcome. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Returns `resource`, to be closed by `close` after the test. */
function closedAfterTest<Resource>(
  resource: Resource,
  close: (resource: Resource) => Promise<void>,
): Resource {
  cleanups.push(() => close(resource));
  return resource;
}

function captureLogs(): { logger: EmailDispatcherOptions['logger']; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

function startDispatcher(
  options: Partial<EmailDispatcherOptions> & Pick<EmailDispatcherOptions, 'queue' | 'transport' | 'logger'>,
): EmailDispatcher {
  return closedAfterTest(
    startEmailDispatcher({
      from,
      productName: 'Latchkey',
      defaultLocale: 'en',
      pollIntervalMilliseconds: 20,
      ...options,
    }),
    (dispatcher) => dispatcher.stop(),
  );
}

async function startCapture(): Promise<SmtpCapture> {
  return closedAfterTest(await startSmtpCapture(), (capture) => capture.stop());
}

function createTransport(port: number, timeouts: Partial<typeof quickTimeouts> = {}): EmailTransport {
  return closedAfterTest(
    createSmtpTransport({ host: '127.0.0.1', port, security: 'none', poolSize: 2, ...timeouts }),
    (transport) => transport.close(),
  );
}

async function waitFor(condition: () => boolean, timeoutMilliseconds = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(5);
  }
}

function assertNoSecretLogged(lines: string[], secrets: string[]): void {
  for (const line of lines) {
    assert.ok(!line.includes('://'), `a log line carries a URL: ${line}`);
    for (const secret of secrets)
      assert.ok(!line.includes(secret), `a log line carries "${secret}": ${line}`);
  }
}

describe('email dispatcher', () => {
  test('delivers queued emails once each, under the Message-ID of their outbox entry', async () => {
    const capture = await startCapture();
    const queue = new MemoryOutboxQueue();
    const records = ['ada', 'grace', 'linus'].map((name) =>
      queue.enqueueEmail(buildVerifyEmail(`${name}@example.com`, `token-${name}`)),
    );
    const { logger, lines } = captureLogs();
    startDispatcher({ queue, transport: createTransport(capture.port), logger });

    for (const record of records) {
      const email = await capture.waitForEmail((candidate) => candidate.to === record.message.to);
      assert.equal(email.messageId, record.messageId);
      assert.equal(email.from, 'noreply@latchkey.test');
      assert.match(email.subject, /Verify your email address/);
      assert.deepEqual(email.links, [
        `https://auth.latchkey.test/verify-email?token=token-${email.to.split('@')[0]}&lang=en`,
      ]);
      assert.ok(email.html.includes(email.links[0]!.replace('&', '&amp;')));
    }
    await waitFor(() => records.every((record) => record.status === 'sent'));
    // Several more polls: nothing is sent again.
    await delay(150);
    assert.equal(capture.messages.length, 3);
    for (const record of records) {
      assert.equal(record.attempts, 1);
      assert.ok(record.sentAt instanceof Date);
    }
    assertNoSecretLogged(lines, ['token-', 'ada@', 'grace@', 'linus@']);
  });

  test('retries with growing delays while SMTP is down, and delivers once it is back', async () => {
    const capture = await startCapture();
    await capture.stop();
    const queue = new MemoryOutboxQueue();
    const record = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-retry'));
    const { logger, lines } = captureLogs();
    const retryBaseMilliseconds = 40;
    startDispatcher({
      queue,
      transport: createTransport(capture.port, quickTimeouts),
      logger,
      retryBaseMilliseconds,
      // The top of each jitter range, so the delays are predictable.
      random: () => 0.999,
    });

    await waitFor(() => record.retries.length >= 4);
    const delaysMilliseconds = record.retries.map(
      (retry, index) => retry.nextAttemptAt.getTime() - record.claimedAt[index]!.getTime(),
    );
    for (const [index, delayMilliseconds] of delaysMilliseconds.entries()) {
      const boundMilliseconds = retryBaseMilliseconds * 2 ** index;
      assert.ok(
        delayMilliseconds >= boundMilliseconds * 0.99 - 1,
        `retry ${index} came after ${delayMilliseconds} ms`,
      );
    }
    for (let index = 1; index < delaysMilliseconds.length; index++) {
      assert.ok(delaysMilliseconds[index]! > delaysMilliseconds[index - 1]!, `delays ${delaysMilliseconds}`);
    }
    assert.equal(capture.messages.length, 0);

    await capture.restart();
    const email = await capture.waitForEmail((candidate) => candidate.to === 'ada@example.com', 10_000);
    assert.equal(email.messageId, record.messageId);
    await waitFor(() => record.status === 'sent');
    assert.ok(record.attempts >= 5);
    assertNoSecretLogged(lines, ['token-retry', 'ada@']);
  });

  test('abandons an email the server refuses with a 5xx, without retrying it, and delivers the others', async () => {
    const capture = await startCapture();
    capture.rejectRecipient('ghost@example.org', 550, 'No such user here');
    const queue = new MemoryOutboxQueue();
    const ghost = queue.enqueueEmail(buildVerifyEmail('ghost@example.org', 'token-ghost'));
    const others = ['ada@example.com', 'grace@example.com'].map((to) =>
      queue.enqueueEmail(buildVerifyEmail(to, 'tk')),
    );
    const { logger, lines } = captureLogs();
    startDispatcher({ queue, transport: createTransport(capture.port), logger, retryBaseMilliseconds: 10 });

    await waitFor(() => ghost.status === 'abandoned' && others.every((record) => record.status === 'sent'));
    await delay(100);
    assert.equal(ghost.attempts, 1);
    assert.deepEqual(ghost.retries, []);
    assert.match(ghost.lastError ?? '', /550/);
    assert.deepEqual(capture.messages.map((email) => email.to).sort(), [
      'ada@example.com',
      'grace@example.com',
    ]);

    const warning = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry['level'] === 40);
    assert.ok(warning, 'the abandonment is logged at warn');
    assert.equal(warning['recipientDomain'], 'example.org');
    assert.equal(warning['responseCode'], 550);
    assertNoSecretLogged(lines, ['ghost@', 'token-ghost', 'No such user']);
  });

  test('sends with the operator template files it was given, and abandons a message that cannot be rendered', async () => {
    const capture = await startCapture();
    const queue = new MemoryOutboxQueue();
    const good = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-ada'));
    const corrupted = queue.enqueueEmail({
      template: 'verify_email',
      to: 'grace@example.com',
      params: { url: 'javascript:alert(1)' },
    });
    const { logger, lines } = captureLogs();
    startDispatcher({
      queue,
      transport: createTransport(capture.port),
      logger,
      templateFiles: { en: { verify_email: { subject: 'Hello {{email}} from {{product_name}}' } } },
    });

    await waitFor(() => good.status === 'sent' && corrupted.status === 'abandoned');
    const email = await capture.waitForEmail((candidate) => candidate.to === 'ada@example.com');
    assert.equal(email.subject, 'Hello ada@example.com from Latchkey');
    assert.match(corrupted.lastError ?? '', /^render failed: /);
    assert.equal(corrupted.attempts, 1);
    assert.deepEqual(
      capture.messages.map((message) => message.to),
      ['ada@example.com'],
    );
    assertNoSecretLogged(lines, ['token-ada', 'grace@']);
  });

  test('a server that accepts the connection and never answers does not hold stop() beyond the timeouts', async () => {
    const silentServer = await startSilentSmtpServer();
    cleanups.push(() => silentServer.close());
    const queue = new MemoryOutboxQueue();
    const record = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-silent'));
    const { logger } = captureLogs();
    const dispatcher = startDispatcher({
      queue,
      transport: createTransport(silentServer.port, quickTimeouts),
      logger,
    });

    await waitFor(() => record.status === 'processing' && silentServer.connectionCount() > 0);
    const stopStartedAt = Date.now();
    await dispatcher.stop();
    const stopMilliseconds = Date.now() - stopStartedAt;

    assert.ok(stopMilliseconds < 1_500, `stop() took ${stopMilliseconds} ms`);
    assert.equal(record.status, 'queued', 'a timeout is temporary: the email waits for a retry');
    assert.equal(record.retries.length, 1);
  });

  test('wake() delivers at once instead of waiting for the next poll', async () => {
    const capture = await startCapture();
    const queue = new MemoryOutboxQueue();
    const { logger } = captureLogs();
    const dispatcher = startDispatcher({
      queue,
      transport: createTransport(capture.port),
      logger,
      pollIntervalMilliseconds: 60_000,
    });
    // Let the first (empty) claim happen, so the dispatcher is asleep for a minute.
    await delay(50);

    const wokenAt = Date.now();
    queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-wake'));
    dispatcher.wake();
    await capture.waitForEmail((email) => email.to === 'ada@example.com', 5_000);
    assert.ok(Date.now() - wokenAt < 5_000);

    const stopStartedAt = Date.now();
    await dispatcher.stop();
    assert.ok(Date.now() - stopStartedAt < 500, 'stop() cuts the sleep short');
  });

  test('while the cores are busy, mail waits at most maxDeferMilliseconds, then everything due goes out', async () => {
    const capture = await startCapture();
    const queue = new MemoryOutboxQueue();
    // More than one claim's worth (10), so the drain has to go on past the first batch.
    for (let i = 0; i < 15; i++) queue.enqueueEmail(buildVerifyEmail(`user${i}@example.com`, `token-${i}`));
    const { logger } = captureLogs();
    const startedAt = Date.now();
    const dispatcher = startDispatcher({
      queue,
      transport: createTransport(capture.port),
      logger,
      deferWhile: () => true,
      maxDeferMilliseconds: 600,
    });
    dispatcher.wake();
    await delay(300);
    assert.equal(capture.messages.length, 0, 'nothing leaves while the cores are busy, wake() or not');
    // Still busy: the bound alone releases the mail, all of it.
    await waitFor(() => capture.messages.length === 15);
    assert.ok(Date.now() - startedAt >= 600);
    assert.equal(new Set(capture.messages.map((message) => message.to)).size, 15);
  });

  test('deferred mail leaves as soon as the cores are free, long before the bound', async () => {
    const capture = await startCapture();
    const queue = new MemoryOutboxQueue();
    queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-busy'));
    const { logger } = captureLogs();
    let busy = true;
    startDispatcher({
      queue,
      transport: createTransport(capture.port),
      logger,
      deferWhile: () => busy,
      maxDeferMilliseconds: 60_000,
    });
    await delay(300);
    assert.equal(capture.messages.length, 0);
    busy = false;
    await capture.waitForEmail((email) => email.to === 'ada@example.com', 5_000);
  });

  test('keeps running through outbox claim failures, backing off, then delivers', async () => {
    const capture = await startCapture();
    const queue = new MemoryOutboxQueue();
    queue.failNextClaims(3);
    const record = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-db'));
    const { logger, lines } = captureLogs();
    startDispatcher({
      queue,
      transport: createTransport(capture.port),
      logger,
      pollIntervalMilliseconds: 10,
    });

    await capture.waitForEmail((email) => email.to === 'ada@example.com');
    await waitFor(() => record.status === 'sent');
    const claimErrors = lines.filter((line) => line.includes('email outbox claim failed'));
    assert.equal(claimErrors.length, 3);
  });

  test('abandons an email still failing at the end of its retry window', async () => {
    const capture = await startCapture();
    await capture.stop();
    const queue = new MemoryOutboxQueue();
    const queuedAt = new Date(Date.now() - 49 * 60 * 60 * 1000);
    const record = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-old'), { now: queuedAt });
    const { logger } = captureLogs();
    startDispatcher({ queue, transport: createTransport(capture.port, quickTimeouts), logger });

    await waitFor(() => record.status === 'abandoned');
    assert.equal(record.attempts, 1);
    assert.deepEqual(record.retries, []);
  });

  test('retries are spread by full jitter within a bound that doubles and is capped', async () => {
    const queue = new MemoryOutboxQueue();
    const failing: EmailTransport = {
      send: async () => {
        throw Object.assign(new Error('try later'), { responseCode: 451 });
      },
      verify: async () => {},
      close: async () => {},
    };
    let clockMilliseconds = Date.parse('2026-01-01T00:00:00Z');
    const record = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-jitter'), {
      now: new Date(clockMilliseconds),
    });
    const { logger } = captureLogs();
    const dispatcher = startDispatcher({
      queue,
      transport: failing,
      logger,
      retryBaseMilliseconds: 5_000,
      retryMaxMilliseconds: 30 * 60 * 1000,
      random: () => 0.5,
      now: () => new Date(clockMilliseconds),
      pollIntervalMilliseconds: 1,
    });
    // Jump the clock to each next attempt, so hours of retries run in milliseconds.
    for (let retries = 1; retries <= 12; retries++) {
      await waitFor(() => record.retries.length === retries);
      clockMilliseconds = record.nextAttemptAt.getTime();
    }
    await dispatcher.stop();
    const delaysMilliseconds = record.retries.map(
      (retry, index) => retry.nextAttemptAt.getTime() - record.claimedAt[index]!.getTime(),
    );
    assert.deepEqual(
      delaysMilliseconds,
      delaysMilliseconds.map((_, index) => Math.floor(0.5 * Math.min(30 * 60 * 1000, 5_000 * 2 ** index))),
    );
  });

  test('stop() waits for the send in flight and records its outcome', async () => {
    const queue = new MemoryOutboxQueue();
    let finishSend: () => void = () => {};
    const sent: OutgoingEmail[] = [];
    const slow: EmailTransport = {
      send: (email) =>
        new Promise<void>((resolve) => {
          sent.push(email);
          finishSend = resolve;
        }),
      verify: async () => {},
      close: async () => {},
    };
    const record = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-slow'));
    const { logger } = captureLogs();
    const dispatcher = startDispatcher({ queue, transport: slow, logger });

    await waitFor(() => sent.length === 1);
    assert.equal(sent[0]!.messageId, record.messageId);
    let stopped = false;
    const stopping = dispatcher.stop().then(() => {
      stopped = true;
    });
    await delay(50);
    assert.equal(stopped, false, 'stop() resolved while a send was in flight');
    finishSend();
    await stopping;
    assert.equal(record.status, 'sent');
  });
});

describe('email dispatcher: shutdown and observation', () => {
  test('stop() aborts a send still running after the grace period, and the email is due again at once', async () => {
    const queue = new MemoryOutboxQueue();
    let sendSignal: AbortSignal | undefined;
    const stalled: EmailTransport = {
      send: (_email, options) =>
        new Promise<void>((_resolve, reject) => {
          sendSignal = options?.signal;
          options?.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        }),
      verify: async () => {},
      close: async () => {},
    };
    const record = queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-stalled'));
    const { logger, lines } = captureLogs();
    const dispatcher = startDispatcher({ queue, transport: stalled, logger, stopGraceMilliseconds: 100 });
    await waitFor(() => sendSignal !== undefined);

    const stopStartedAt = Date.now();
    await dispatcher.stop();
    const stopMilliseconds = Date.now() - stopStartedAt;

    assert.ok(stopMilliseconds >= 90 && stopMilliseconds < 1_000, `stop() took ${stopMilliseconds} ms`);
    assert.equal(record.status, 'queued');
    assert.ok(record.nextAttemptAt.getTime() <= Date.now(), 'no backoff: another dispatcher may take it now');
    assert.ok(lines.some((line) => line.includes('interrupted by shutdown')));
  });

  test('reports every outcome (sent, retry, abandoned) without the address or the link', async () => {
    const capture = await startCapture();
    capture.rejectRecipient('ghost@example.com', 550, 'No such user');
    const queue = new MemoryOutboxQueue();
    queue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-events-1'));
    queue.enqueueEmail(buildVerifyEmail('ghost@example.com', 'token-events-2'));
    const events: unknown[] = [];
    const { logger } = captureLogs();
    startDispatcher({
      queue,
      transport: createTransport(capture.port),
      logger,
      onEvent: (event) => events.push(event),
    });
    await waitFor(() => events.length === 2);
    assert.deepEqual(
      events.map((event) => JSON.stringify(event)).sort(),
      [
        JSON.stringify({ outcome: 'abandoned', template: 'verify_email' }),
        JSON.stringify({ outcome: 'sent', template: 'verify_email' }),
      ].sort(),
    );

    const failing: EmailTransport = {
      send: async () => {
        throw Object.assign(new Error('try later'), { responseCode: 451 });
      },
      verify: async () => {},
      close: async () => {},
    };
    const retryQueue = new MemoryOutboxQueue();
    retryQueue.enqueueEmail(buildVerifyEmail('ada@example.com', 'token-events-3'));
    const retries: unknown[] = [];
    startDispatcher({
      queue: retryQueue,
      transport: failing,
      logger,
      onEvent: (event) => retries.push(event),
    });
    await waitFor(() => retries.length === 1);
    assert.deepEqual(retries[0], { outcome: 'retry', template: 'verify_email' });
  });
});
