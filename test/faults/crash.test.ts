import assert from 'node:assert/strict';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, uniqueEmail } from '../support/journeys.ts';
import type { LatchkeyProcess } from '../support/process.ts';
import { testOnThrowawayStack } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

/** The lease of a dispatcher's email is twice the send timeout: a dead dispatcher's mail returns after it. */
const sendTimeoutSeconds = 2;

testOnThrowawayStack(
  'kill -9 right after a 202 for a reset request (real processes, throwaway servers)',
  {
    name: 'crash',
    env: { SMTP_SEND_TIMEOUT_SECONDS: String(sendTimeoutSeconds) },
  },
  async (t, stack) => {
    const { postgres, smtp } = stack;

    // Each rule starts with no instance running, whatever the previous one left.
    t.beforeEach(async () => {
      smtp.holdAcceptance(0);
      await stack.stopInstances();
    });

    function start(name: string, port?: number): Promise<LatchkeyProcess> {
      return stack.startInstance(name, port === undefined ? {} : { port });
    }

    async function registerAccount(through: LatchkeyProcess): Promise<string> {
      const email = uniqueEmail('crash');
      const answer = await new HttpClient(through.baseUrl).post('/register', {
        json: { email, password: generatePassword() },
      });
      assert.equal(answer.status, 200);
      await smtp.waitForEmail((message) => message.to === email, 10_000);
      return email;
    }

    /**
     * The SMTP server holds each message before accepting it, so that a send, once started, is still in
     * flight (the email leased to its dispatcher, not yet accepted) a while later. Returns the 202.
     */
    async function requestReset(through: LatchkeyProcess, email: string): Promise<void> {
      smtp.holdAcceptance(1_500);
      const answer = await new HttpClient(through.baseUrl).post('/request-password-reset', {
        json: { email },
      });
      assert.equal(answer.status, 202);
    }

    async function readResetEmailStatuses(email: string): Promise<string[]> {
      const rows = await postgres.query<{ status: string }>(
        `select status from email_outbox where recipient = $1 and template = 'password_reset'`,
        [email],
      );
      return rows.map((row) => row.status);
    }

    /** Until the reset email to `email` is leased to a dispatcher (its send in flight). */
    async function waitUntilSending(email: string): Promise<void> {
      await waitUntil(
        `the reset email to ${email} is being sent`,
        async () => (await readResetEmailStatuses(email))[0] === 'processing',
        { timeoutMilliseconds: 10_000, intervalMilliseconds: 20 },
      );
    }

    /** Returns when the email arrived. */
    async function assertResetDeliveredOnce(email: string): Promise<number> {
      const resetLinks = (): number =>
        smtp.messages.filter((message) => message.to === email && /reset-password\?token=/.test(message.text))
          .length;
      await waitUntil(`the reset email to ${email} arrives`, () => resetLinks() >= 1, {
        timeoutMilliseconds: 4 * sendTimeoutSeconds * 1000 + 10_000,
        intervalMilliseconds: 50,
      });
      const arrivedAt = Date.now();
      await waitUntil(
        'the outbox records it as sent',
        async () => (await readResetEmailStatuses(email)).every((status) => status === 'sent'),
        { timeoutMilliseconds: 10_000 },
      );
      // Longer than a lease: had the killed instance's lease been taken twice, a copy would show now.
      await new Promise((resolve) => setTimeout(resolve, 2 * sendTimeoutSeconds * 1000 + 500));
      assert.equal(resetLinks(), 1, 'the reset email arrived more than once');
      const duplicates = [...smtp.countByMessageId()].filter(([, count]) => count > 1);
      assert.deepEqual(duplicates, []);
      return arrivedAt;
    }

    // The reset's outbox row is committed before the 202 (decision 0007), so even this kill loses nothing.
    await t.test('killed at once after the 202: a surviving instance delivers the email, once', async (t) => {
      const victim = await start('victim');
      const survivor = await start('survivor');
      const email = await registerAccount(survivor);

      await requestReset(victim, email);
      const killedAt = Date.now();
      await victim.kill();
      smtp.holdAcceptance(0);
      const arrivedAt = await assertResetDeliveredOnce(email);
      t.diagnostic(`delivered ${arrivedAt - killedAt} ms after the kill`);
      await survivor.stop();
    });

    await t.test(
      'killed with the email leased to it, mid-send: the survivor takes it over after the lease, once',
      async (t) => {
        const victim = await start('victim');
        const survivor = await start('survivor');
        const email = await registerAccount(survivor);
        // Only the victim dispatches until it dies: the survivor's dispatcher starts after the kill.
        await survivor.stop();

        await requestReset(victim, email);
        await waitUntilSending(email);
        const killedAt = Date.now();
        await victim.kill();
        smtp.holdAcceptance(0);
        await start('survivor-2');
        const arrivedAt = await assertResetDeliveredOnce(email);
        t.diagnostic(
          `delivered ${arrivedAt - killedAt} ms after the kill (the lease is ${2 * sendTimeoutSeconds} s)`,
        );
      },
    );

    await t.test(
      'killed mid-send as the only instance: the restarted instance delivers the email, once',
      async (t) => {
        const only = await start('only');
        const email = await registerAccount(only);

        await requestReset(only, email);
        await waitUntilSending(email);
        await only.kill();
        smtp.holdAcceptance(0);
        const restartedAt = Date.now();
        await start('restarted', only.port);
        const arrivedAt = await assertResetDeliveredOnce(email);
        t.diagnostic(`delivered ${arrivedAt - restartedAt} ms after the restart`);
      },
    );
  },
);
