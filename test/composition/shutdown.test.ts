import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import { prepareShutdown, type ShutdownStep } from '../../src/shutdown.ts';

function captureLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  return { logger, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}

describe('the shutdown sequence', () => {
  test('runs every step once, in order, logs the stop and answers exit code 0', async () => {
    const { logger, messages } = captureLogger();
    const ran: string[] = [];
    const step = (name: string): ShutdownStep => ({ name, run: async () => void ran.push(name) });
    const shutDown = prepareShutdown({
      logger,
      stoppedMessage: 'stopped',
      steps: [step('http'), step('email delivery'), step('connections')],
    });
    const first = shutDown('SIGTERM');
    assert.equal(shutDown('SIGINT'), first, 'a second signal joins the stop in progress');
    assert.equal(await first, 0);
    assert.deepEqual(ran, ['http', 'email delivery', 'connections']);
    assert.deepEqual(messages(), ['shutting down', 'stopped']);
  });

  test('a failed step is logged, the later steps still run, and the exit code is 1', async () => {
    const { logger, messages } = captureLogger();
    const ran: string[] = [];
    const shutDown = prepareShutdown({
      logger,
      stoppedMessage: 'stopped',
      steps: [
        { name: 'http', run: async () => Promise.reject(new Error('close failed')) },
        { name: 'connections', run: async () => void ran.push('connections') },
      ],
    });
    assert.equal(await shutDown('SIGTERM'), 1);
    assert.deepEqual(ran, ['connections'], 'the connections are closed even so');
    assert.deepEqual(messages(), ['shutting down', 'shutdown failed']);
  });

  test('a stop that hangs is given up after the timeout, with exit code 1', async () => {
    const { logger, messages } = captureLogger();
    const shutDown = prepareShutdown({
      logger,
      stoppedMessage: 'stopped',
      timeoutMilliseconds: 50,
      steps: [{ name: 'email delivery', run: () => new Promise(() => {}) }],
    });
    assert.equal(await shutDown('SIGTERM'), 1);
    assert.deepEqual(messages(), ['shutting down', 'shutdown took too long; exiting']);
  });
});
