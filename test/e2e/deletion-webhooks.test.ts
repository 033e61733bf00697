import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { deleteExpiredRecords } from '../../src/flows/housekeeping.ts';
import { createManualClock } from '../../src/storage/memory/clock.ts';
import { PostgresExpiredRecordsStore } from '../../src/storage/postgres/housekeeping.ts';
import { HttpClient } from '../support/http-client.ts';
import { logIn, registerVerifiedAccount, tokenInEmail } from '../support/journeys.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';
import { waitUntil } from '../support/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

interface DeletionEvent {
  type: string;
  timestamp: string;
  data: { user_id: string; actor: string };
}

const graceDays = 7;
const dayMilliseconds = 24 * 60 * 60 * 1000;

for (const backend of availableBackends()) {
  describe(`deletion webhooks (${backend})`, () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    let service: TestService;
    let receiver: WebhookReceiver;

    before(async () => {
      receiver = await startWebhookReceiver(() => ({ status: 204 }));
      service = await startTestService(backend, {
        WEBHOOK_URLS: receiver.url('/hooks'),
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        ACCOUNT_DELETION_GRACE_DAYS: String(graceDays),
      });
    });
    after(async () => {
      await service?.close();
      await receiver?.close();
    });

    /**
     * What the receiver got about `userId`, each attempt verified under the secret, by event time (the
     * deliveries of one batch are sent together, so they may arrive in any order).
     */
    function eventsOf(userId: string): DeletionEvent[] {
      return receiver.received
        .map((attempt) => new Webhook(secret).verify(attempt.body, attempt.headers) as DeletionEvent)
        .filter((event) => event.data.user_id === userId)
        .sort((first, second) => Date.parse(first.timestamp) - Date.parse(second.timestamp));
    }
    const typesOf = (userId: string): string[] => eventsOf(userId).map((event) => event.type);

    async function registerAndDelete(): Promise<{ email: string; userId: string }> {
      const account = await registerVerifiedAccount(service.baseUrl, service.smtp);
      const [row] = await service.query<{ id: string }>('select id from users where email = $1', [
        account.email,
      ]);
      assert.ok(row);
      const deleted = await new HttpClient(service.baseUrl).post('/me/delete', {
        bearer: await logIn(service.baseUrl, account),
        json: { current_password: account.password },
      });
      assert.equal(deleted.status, 200);
      return { email: account.email, userId: row.id };
    }

    test('a receiver hears deletion_scheduled, then deletion_cancelled on a restore, and user.deleted only when the clean-up removes the account after the grace', async () => {
      const restored = await registerAndDelete();
      const removed = await registerAndDelete();
      await waitUntil(
        'both deletions reach the receiver',
        () =>
          typesOf(restored.userId).includes('user.deletion_scheduled') &&
          typesOf(removed.userId).includes('user.deletion_scheduled'),
        { timeoutMilliseconds: 15_000 },
      );
      assert.ok(!typesOf(removed.userId).includes('user.deleted'), 'a deletion request is not a removal');

      const email = await service.smtp.waitForEmail(
        (candidate) =>
          candidate.to.toLowerCase() === restored.email.toLowerCase() &&
          /was deleted/i.test(candidate.subject),
        10_000,
      );
      const restore = await new HttpClient(service.baseUrl).post('/restore-account', {
        json: { token: tokenInEmail(email, '/restore-account') },
      });
      assert.equal(restore.status, 200);
      await waitUntil(
        'the restore reaches the receiver',
        () => typesOf(restored.userId).includes('user.deletion_cancelled'),
        { timeoutMilliseconds: 15_000 },
      );

      // The clean-up pass as the service runs it, on the service's database, a day past the grace period.
      const clock = createManualClock(new Date(Date.now() + (graceDays - 1) * dayMilliseconds));
      const store = new PostgresExpiredRecordsStore(service.deps.database.db, {
        urls: service.config.webhooks.urls,
      });
      assert.equal(
        (await deleteExpiredRecords(store, clock, graceDays)).accounts,
        0,
        'still within the grace',
      );
      clock.advanceSeconds(2 * 24 * 60 * 60);
      const passAt = clock.now();
      assert.equal((await deleteExpiredRecords(store, clock, graceDays)).accounts, 1);

      await waitUntil(
        'the removal reaches the receiver',
        () => typesOf(removed.userId).includes('user.deleted'),
        {
          timeoutMilliseconds: 15_000,
        },
      );
      assert.deepEqual(typesOf(removed.userId), [
        'user.created',
        'user.verified',
        'user.login',
        'user.deletion_scheduled',
        'user.deleted',
      ]);
      const removal = eventsOf(removed.userId).at(-1);
      assert.equal(removal?.data.actor, 'system');
      assert.equal(removal?.timestamp, passAt.toISOString());
      assert.deepEqual(
        await service.query('select id from users where id = $1', [removed.userId]),
        [],
        'the account is gone',
      );
      assert.deepEqual(typesOf(restored.userId), [
        'user.created',
        'user.verified',
        'user.login',
        'user.deletion_scheduled',
        'user.deletion_cancelled',
      ]);
    });
  });
}
