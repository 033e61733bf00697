import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { classifySendFailure } from '../../src/email/transport.ts';
import { createConsoleTransport } from '../../src/email/transports/console.ts';
import { createSmtpTransport } from '../../src/email/transports/smtp.ts';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.ts';

const email = {
  from: 'Latchkey <noreply@latchkey.test>',
  to: 'ada@example.com',
  subject: 'Verify your email address for Latchkey',
  text: 'Open this link:\n\nhttps://auth.latchkey.test/verify-email?token=abc\n\n-- Latchkey\n',
  html: '<p>Open this link</p>',
  messageId: '<0f6c1e1c@latchkey.test>',
};

describe('classifySendFailure', () => {
  test('a 5xx reply is permanent: the server will never take that message', () => {
    assert.equal(
      classifySendFailure(Object.assign(new Error('no such user'), { responseCode: 550 })),
      'permanent',
    );
    assert.equal(
      classifySendFailure(Object.assign(new Error('rejected'), { responseCode: 554 })),
      'permanent',
    );
  });

  test('a 4xx reply, a connection failure, a timeout or anything unknown is temporary', () => {
    assert.equal(
      classifySendFailure(Object.assign(new Error('mailbox busy'), { responseCode: 451 })),
      'temporary',
    );
    assert.equal(
      classifySendFailure(Object.assign(new Error('refused'), { code: 'ECONNECTION' })),
      'temporary',
    );
    assert.equal(
      classifySendFailure(Object.assign(new Error('greeting never received'), { code: 'ETIMEDOUT' })),
      'temporary',
    );
    assert.equal(classifySendFailure(new Error('something odd')), 'temporary');
    assert.equal(classifySendFailure('a string'), 'temporary');
    assert.equal(classifySendFailure(null), 'temporary');
  });

  test('a rejected login is temporary even with a 5xx: the operator fixes the credentials, the mail waits', () => {
    const error = Object.assign(new Error('invalid login'), { code: 'EAUTH', responseCode: 535 });
    assert.equal(classifySendFailure(error), 'temporary');
  });
});

describe('console transport', () => {
  test('prints recipient, subject and the plain text with the link on its own line', async () => {
    const written: string[] = [];
    const transport = createConsoleTransport((line) => void written.push(line));
    await transport.verify();
    await transport.send(email);
    await transport.close();
    const output = written.join('');
    assert.match(output, /ada@example\.com/);
    assert.match(output, /Verify your email address for Latchkey/);
    assert.ok(output.split('\n').includes('https://auth.latchkey.test/verify-email?token=abc'));
    assert.ok(!output.includes('<p>'), 'the HTML part is not printed');
  });
});

type SmtpTransportSettings = Parameters<typeof createSmtpTransport>[0];

/** An SMTP capture and a transport to it (plain text, one connection unless `settings` say otherwise), both closed by t.after. */
async function connectToCapture(
  t: TestContext,
  settings: Partial<SmtpTransportSettings> = {},
): Promise<{ capture: SmtpCapture; transport: ReturnType<typeof createSmtpTransport> }> {
  const capture = await startSmtpCapture();
  const transport = createSmtpTransport({
    host: '127.0.0.1',
    port: capture.port,
    security: 'none',
    poolSize: 1,
    ...settings,
  });
  t.after(async () => {
    await transport.close();
    await capture.stop();
  });
  return { capture, transport };
}

describe('SMTP transport', () => {
  test('verifies the server and sends through the pool with the given Message-ID', async (t) => {
    const { capture, transport } = await connectToCapture(t, { poolSize: 2 });
    await transport.verify();
    await Promise.all([1, 2, 3].map((n) => transport.send({ ...email, to: `user${n}@example.com` })));
    assert.equal(capture.messages.length, 3);
    for (const captured of capture.messages) {
      assert.equal(captured.messageId, email.messageId);
      assert.equal(captured.subject, email.subject);
      assert.deepEqual(captured.links, ['https://auth.latchkey.test/verify-email?token=abc']);
    }
  });

  test('a refused recipient fails the send with a permanent error', async (t) => {
    const { capture, transport } = await connectToCapture(t);
    capture.rejectRecipient('ghost@example.org', 550, 'No such user here');
    await assert.rejects(transport.send({ ...email, to: 'ghost@example.org' }), (error: unknown) => {
      assert.equal(classifySendFailure(error), 'permanent');
      return true;
    });
    // The pooled connection survives the refusal.
    await transport.send(email);
    assert.equal(capture.messages.length, 1);
  });

  test('starttls never falls back to plain text when the server offers no STARTTLS', async (t) => {
    const { capture, transport } = await connectToCapture(t, {
      security: 'starttls',
      username: 'latchkey',
      password: 'secret',
    });
    await assert.rejects(transport.send(email), (error: unknown) => {
      // The server answers 500 to STARTTLS, yet it is a setup problem: the mail waits for the fix.
      assert.equal(classifySendFailure(error), 'temporary');
      return true;
    });
    assert.equal(capture.messages.length, 0);
  });

  test('an unreachable server fails verify() and send() with a temporary error', async (t) => {
    const { capture, transport } = await connectToCapture(t, { connectionTimeoutMilliseconds: 500 });
    // The transport connects lazily: nothing listens on its port any more when it first does.
    await capture.stop();
    await assert.rejects(transport.verify());
    await assert.rejects(transport.send(email), (error: unknown) => {
      assert.equal(classifySendFailure(error), 'temporary');
      return true;
    });
  });
});
