import assert from 'node:assert/strict';
import { uniqueRunId } from '../support/backends.ts';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, runWithConcurrency } from '../support/journeys.ts';
import { testOnThrowawayStack } from '../support/throwaway-stack.ts';
import { waitUntil } from '../support/wait.ts';

const registrationCount = 1_000;
const concurrency = 100;

testOnThrowawayStack(
  'concurrency across two instances (real processes, throwaway servers)',
  { name: 'concurrency', instances: 2 },
  async (t, { postgres, smtp, instances }) => {
    await t.test(
      `${registrationCount} distinct registrations at concurrency ${concurrency}: as many users and emails, no 5xx`,
      async (t) => {
        const run = uniqueRunId();
        const addresses = Array.from(
          { length: registrationCount },
          (_, index) => `bulk-${run}-${index}@example.com`,
        );
        const startedAt = Date.now();
        const statuses = await runWithConcurrency(registrationCount, concurrency, async (index) => {
          const target = instances[index % instances.length]!;
          const answer = await new HttpClient(target.baseUrl).post('/register', {
            json: { email: addresses[index], password: generatePassword() },
          });
          return answer.status;
        });
        const answeredAfter = Date.now() - startedAt;
        const byStatus = new Map<number, number>();
        for (const status of statuses) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        assert.deepEqual([...byStatus], [[200, registrationCount]], 'every registration answered 200');

        const users = await postgres.query<{ count: string }>(
          `select count(*) as count from users where email like $1`,
          [`bulk-${run}-%`],
        );
        assert.equal(Number(users[0]?.count), registrationCount);

        await waitUntil(
          `${registrationCount} emails arrive`,
          () =>
            smtp.messages.filter((email) => email.to.startsWith(`bulk-${run}-`)).length >= registrationCount,
          { timeoutMilliseconds: 120_000, intervalMilliseconds: 250 },
        );
        const deliveredAfter = Date.now() - startedAt;
        t.diagnostic(
          `${registrationCount} registrations answered in ${answeredAfter} ms, all emails delivered after ${deliveredAfter} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const received = smtp.messages.filter((email) => email.to.startsWith(`bulk-${run}-`));
        assert.equal(received.length, registrationCount, 'an email went out twice');
        assert.deepEqual(
          [...new Set(received.map((email) => email.to))].sort(),
          [...addresses].sort(),
          'one email per registered address',
        );
      },
    );

    await t.test(
      '100 concurrent registrations of one address, in case and Unicode variants, give one user',
      async () => {
        const local = `race${uniqueRunId()}`;
        const fullwidth = [...local]
          .map((character) =>
            /[a-z]/.test(character)
              ? String.fromCodePoint(character.codePointAt(0)! - 0x61 + 0xff41)
              : character,
          )
          .join('');
        const variants = [
          `${local}@example.com`,
          `${local.toUpperCase()}@EXAMPLE.COM`,
          `${local[0]!.toUpperCase()}${local.slice(1)}@Example.com`,
          `${fullwidth}@example.com`,
          `${local}@ｅｘａｍｐｌｅ.com`,
        ];
        const statuses = await runWithConcurrency(100, 100, async (index) => {
          const target = instances[index % instances.length]!;
          const answer = await new HttpClient(target.baseUrl).post('/register', {
            json: { email: variants[index % variants.length], password: generatePassword() },
          });
          return answer.status;
        });
        assert.deepEqual([...new Set(statuses)], [200], `answers: ${[...new Set(statuses)].join(', ')}`);
        const users = await postgres.query<{ email_key: string }>(
          'select email_key from users where email_key = $1',
          [`${local}@example.com`],
        );
        assert.equal(users.length, 1, `${users.length} users for one address`);
      },
    );
  },
);
