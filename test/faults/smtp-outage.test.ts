import assert from 'node:assert/strict';
import { HttpClient, type HttpAnswer } from '../support/http-client.ts';
import { generatePassword, runWithConcurrency, uniqueEmail } from '../support/journeys.ts';
import type { LatchkeyProcess } from '../support/process.ts';
import { startSilentSmtpServer } from '../support/smtp-capture.ts';
import { testOnThrowawayStack } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * Long enough for dozens of failed attempts per email (retries are capped at a few seconds here; in
 * production at EMAIL_RETRY_MAX_DELAY_SECONDS, 30 min, within a 48 h window). Set
 * LATCHKEY_FAULT_SMTP_OUTAGE_SECONDS=300 for a five-minute outage.
 */
const outageSeconds = Number(process.env.LATCHKEY_FAULT_SMTP_OUTAGE_SECONDS ?? 60);
/** "As usual": an answer never waits for SMTP, so this is the hashing and the database, nothing more. */
const usualAnswerMilliseconds = 1_500;

interface OutboxRow {
  readonly message_id: string;
  readonly recipient: string;
  readonly template: string;
  readonly status: string;
  readonly attempts: number;
  readonly last_error: string | null;
}

testOnThrowawayStack(
  'SMTP outages: answers as usual, every promised email once afterwards (throwaway servers)',
  {
    name: 'smtp-outage',
    instances: 2,
    env: { EMAIL_RETRY_MAX_DELAY_SECONDS: '3', SMTP_SEND_TIMEOUT_SECONDS: '5' },
  },
  async (t, stack) => {
    const { postgres, smtp, instances } = stack;

    async function timedPost(
      running: LatchkeyProcess,
      path: string,
      body: unknown,
    ): Promise<{ answer: HttpAnswer; milliseconds: number }> {
      const startedAt = Date.now();
      const answer = await new HttpClient(running.baseUrl).post(path, { json: body });
      return { answer, milliseconds: Date.now() - startedAt };
    }

    async function readOutbox(): Promise<OutboxRow[]> {
      return postgres.query<OutboxRow>(
        'select message_id, recipient, template, status, attempts, last_error from email_outbox',
      );
    }

    await t.test(
      `an outage of ${outageSeconds} s: same answers, then every email exactly once; a 550 blocks nobody else`,
      async (t) => {
        // Before: three accounts whose mail goes out at once.
        const earlyAccounts = Array.from({ length: 3 }, () => uniqueEmail('early'));
        for (const [index, email] of earlyAccounts.entries()) {
          const { answer } = await timedPost(instances[index % 2]!, '/register', {
            email,
            password: generatePassword(),
          });
          assert.equal(answer.status, 200);
        }
        await waitUntil('the early mail is delivered', () => smtp.messages.length === 3, {
          timeoutMilliseconds: 10_000,
        });

        await smtp.stop();
        const outageStartedAt = Date.now();

        // During the outage: registrations and reset requests answer exactly as usual.
        const outageAccounts = Array.from({ length: 20 }, () => uniqueEmail('outage'));
        const refusedRecipient = outageAccounts[7]!;
        const registrations = await runWithConcurrency(outageAccounts.length, 5, (index) =>
          timedPost(instances[index % 2]!, '/register', {
            email: outageAccounts[index],
            password: generatePassword(),
          }),
        );
        const resetTargets = [...earlyAccounts, outageAccounts[0]!, outageAccounts[1]!];
        const resets = await runWithConcurrency(resetTargets.length, 5, (index) =>
          timedPost(instances[index % 2]!, '/request-password-reset', { email: resetTargets[index] }),
        );
        for (const { answer, milliseconds } of registrations) {
          assert.equal(answer.status, 200, answer.text);
          assert.ok(milliseconds < usualAnswerMilliseconds, `a registration took ${milliseconds} ms`);
        }
        for (const { answer, milliseconds } of resets) {
          assert.equal(answer.status, 202, answer.text);
          assert.ok(milliseconds < usualAnswerMilliseconds, `a reset request took ${milliseconds} ms`);
        }
        // This one recipient's server says "no such user" once it is back.
        smtp.rejectRecipient(refusedRecipient, 550, 'No such user here');

        const promised = 3 + outageAccounts.length + resetTargets.length;
        await waitUntil(
          'every promised email is in the outbox',
          async () => (await readOutbox()).length === promised,
          {
            timeoutMilliseconds: 10_000,
          },
        );
        const remainingMilliseconds = outageSeconds * 1000 - (Date.now() - outageStartedAt);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, remainingMilliseconds)));

        const duringOutage = await readOutbox();
        const waiting = duringOutage.filter((row) => row.status === 'queued' || row.status === 'processing');
        assert.equal(waiting.length, promised - 3, 'mail was lost or abandoned during the outage');
        const mostAttempts = Math.max(...waiting.map((row) => row.attempts));
        assert.ok(mostAttempts >= 5, `only ${mostAttempts} attempts during the outage`);

        await smtp.restart();
        const restartedAt = Date.now();
        await waitUntil(
          'every email is sent or abandoned',
          async () =>
            (await readOutbox()).every((row) => row.status === 'sent' || row.status === 'abandoned'),
          { timeoutMilliseconds: 30_000, intervalMilliseconds: 200 },
        );
        t.diagnostic(
          `outage ${outageSeconds} s, up to ${mostAttempts} attempts per email; all delivered ${Date.now() - restartedAt} ms after SMTP returned`,
        );
        // A few more dispatcher polls: nothing goes out a second time.
        await new Promise((resolve) => setTimeout(resolve, 1_000));

        const outbox = await readOutbox();
        const abandoned = outbox.filter((row) => row.status === 'abandoned');
        assert.deepEqual(
          abandoned.map((row) => row.recipient),
          [refusedRecipient],
          'only the refused recipient is abandoned',
        );
        assert.match(abandoned[0]?.last_error ?? '', /550/);
        const sentIds = outbox.filter((row) => row.status === 'sent').map((row) => row.message_id);
        assert.equal(sentIds.length, promised - 1);

        const counts = smtp.countByMessageId();
        const duplicates = [...counts].filter(([, count]) => count !== 1);
        assert.deepEqual(duplicates, [], 'an email arrived more than once');
        assert.deepEqual([...counts.keys()].sort(), [...sentIds].sort(), 'captured and sent differ');
        assert.equal(
          smtp.messages.some((email) => email.to === refusedRecipient),
          false,
        );
        // Each promise kept: a verification email per registration, a reset link per reset request.
        for (const email of outageAccounts.filter((address) => address !== refusedRecipient)) {
          assert.ok(
            smtp.messages.some((message) => message.to === email && /verify-email/.test(message.text)),
          );
        }
        for (const email of resetTargets) {
          assert.ok(
            smtp.messages.some(
              (message) => message.to === email && /reset-password\?token=/.test(message.text),
            ),
            `no reset link reached ${email}`,
          );
        }
      },
    );

    await t.test(
      'a server that accepts the connection and then stalls slows no answer; SIGTERM still stops in bounded time',
      async (t) => {
        const silent = await startSilentSmtpServer();
        t.after(() => silent.close());
        // A database of its own, so that no other dispatcher takes this instance's mail.
        await postgres.query('create database stalled');
        const stalledUrl = postgres.urlOf('stalled');
        // The service's own retry and send timeouts (not the outage test's) against a stalled server.
        const stalled = await stack.startInstance('stalled-smtp', {
          databaseUrl: stalledUrl,
          redisKeyPrefix: 'stalled:',
          smtpPort: silent.port,
          withoutStackEnv: true,
        });

        const answers = await runWithConcurrency(20, 4, (index) =>
          timedPost(stalled, index % 4 === 3 ? '/request-password-reset' : '/register', {
            email: uniqueEmail('stalled'),
            ...(index % 4 === 3 ? {} : { password: generatePassword() }),
          }),
        );
        const slowest = Math.max(...answers.map(({ milliseconds }) => milliseconds));
        t.diagnostic(`slowest answer with a stalled SMTP server: ${slowest} ms`);
        for (const { answer } of answers)
          assert.ok(answer.status === 200 || answer.status === 202, answer.text);
        assert.ok(slowest < usualAnswerMilliseconds, `an answer took ${slowest} ms`);
        const ready = await new HttpClient(stalled.baseUrl).get('/health/ready');
        assert.equal(ready.status, 200, 'SMTP is not part of readiness');
        await waitUntil('the dispatcher is stuck on the silent server', () => silent.connectionCount() > 0, {
          timeoutMilliseconds: 5_000,
        });

        const signalledAt = Date.now();
        const exit = await stalled.stop({ timeoutMilliseconds: 20_000 });
        const stopMilliseconds = Date.now() - signalledAt;
        t.diagnostic(`SIGTERM with sends stalled: exit ${exit.code} after ${stopMilliseconds} ms`);
        assert.deepEqual({ code: exit.code, forced: exit.forced }, { code: 0, forced: false });
        assert.ok(stopMilliseconds < 10_000, `stopping took ${stopMilliseconds} ms`);
        assert.ok(stalled.output().includes('email send interrupted by shutdown, queued again'));
        // Interrupted sends are due again at once, for any other dispatcher; nothing stays leased.
        const rows = await postgres.query<{ status: string; due: boolean }>(
          'select status, next_attempt_at <= now() as due from email_outbox',
          [],
          'stalled',
        );
        // One verification email per registration (the reset requests were for addresses without an account).
        assert.equal(rows.length, answers.filter(({ answer }) => answer.status === 200).length);
        assert.deepEqual(
          rows.filter((row) => row.status !== 'queued' || !row.due),
          [],
          'an email was left leased or delayed by the shutdown',
        );
      },
    );
  },
);
