import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { attemptWebhookDelivery, isPrivateAddress, signWebhook } from '../../src/webhooks/attempt.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

describe('webhook targets', () => {
  test('loopback, private, shared, link-local, unique-local, multicast and unspecified addresses are private; public ones are not', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ])
      assert.equal(isPrivateAddress(address), true, address);
    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])
      assert.equal(isPrivateAddress(address), false, address);
  });

  test('the signature is the one the standardwebhooks package makes, one per secret', () => {
    const secrets = [
      `whsec_${randomBytes(32).toString('base64')}`,
      `whsec_${randomBytes(24).toString('base64')}`,
    ];
    const at = new Date('2026-12-01T00:00:00Z');
    const signature = signWebhook(secrets, 'msg_1', at.getTime() / 1000, '{"type":"user.login"}');
    assert.deepEqual(
      signature.split(' '),
      secrets.map((secret) => new Webhook(secret).sign('msg_1', at, '{"type":"user.login"}')),
    );
  });

  describe('an attempt', () => {
    let receiver: WebhookReceiver;
    before(async () => {
      receiver = await startWebhookReceiver(() => ({ status: 200 }));
    });
    after(() => receiver.close());
    const attempt = (url: string, allowPrivateTargets: boolean) =>
      attemptWebhookDelivery({
        url,
        webhookId: 'msg_attempt',
        payload: '{}',
        secrets: [`whsec_${randomBytes(24).toString('base64')}`],
        now: new Date(),
        timeoutMilliseconds: 2_000,
        allowPrivateTargets,
      });

    test('to a loopback target, by name, IPv4 or IPv6 address, is refused before connecting unless private targets are allowed', async () => {
      for (const url of [
        `http://localhost:${String(receiver.port)}/`,
        `http://127.0.0.1:${String(receiver.port)}/`,
        `http://[::1]:${String(receiver.port)}/`,
        `http://[::ffff:127.0.0.1]:${String(receiver.port)}/`,
      ]) {
        const result = await attempt(url, false);
        assert.equal(result.kind, 'failed', url);
        assert.match(result.kind === 'failed' ? result.error : '', /private/);
      }
      assert.deepEqual(receiver.received, []);
      assert.deepEqual(await attempt(receiver.url('/allowed'), true), { kind: 'answered', statusCode: 200 });
      assert.equal(receiver.received.length, 1);
    });
  });
});
