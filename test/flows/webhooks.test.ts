import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deleteAccount, restoreAccount } from '../../src/flows/account-deletion.ts';
import { verifyEmailAddress } from '../../src/flows/email-verification.ts';
import { deleteExpiredRecords } from '../../src/flows/housekeeping.ts';
import { logIn } from '../../src/flows/login.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { createMemoryExpiredRecordsStore } from '../../src/storage/memory/housekeeping.ts';
import {
  addVerifiedAccount,
  assertFlowError,
  createMemoryAccount,
  emailAddress,
  otherPassword,
  password,
} from './memory-account.ts';

const endpoint = 'https://hooks.example.com/latchkey';

describe('webhooks from the flows', () => {
  test('a registration, its verification and a login queue user.created, user.verified and user.login; a refused login and a repeated registration queue nothing', async () => {
    const account = createMemoryAccount({ webhookUrls: [endpoint] });
    const address = 'carol@example.test';
    await registerAccount(account.context, emailAddress(address), password);
    await verifyEmailAddress(account.context, account.tokenFromLatestEmail(address, 'verify_email'));
    await assertFlowError(
      logIn(account.context, emailAddress(address), otherPassword),
      'invalid_credentials',
    );
    await logIn(account.context, emailAddress(address), password);
    await registerAccount(account.context, emailAddress(address), password);

    const user = await account.findUser(address);
    const deliveries = account.database.webhookDeliveries
      .rows()
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    assert.deepEqual(
      deliveries.map((row) => [row.endpointUrl, row.eventType]),
      [
        [endpoint, 'user.created'],
        [endpoint, 'user.verified'],
        [endpoint, 'user.login'],
      ],
    );
    for (const row of deliveries) {
      const body = JSON.parse(row.payload) as { type: string; data: { user_id: string } };
      assert.equal(body.type, row.eventType);
      assert.equal(body.data.user_id, user.id);
      assert.doesNotMatch(row.payload, /carol|token|password/i);
    }
  });

  test('a deletion queues user.deletion_scheduled, a restore user.deletion_cancelled, and only the removal after the grace user.deleted', async () => {
    const account = createMemoryAccount({ webhookUrls: [endpoint], accountDeletionGraceDays: 7 });
    await addVerifiedAccount(account, 'erin@example.test');
    await addVerifiedAccount(account, 'frank@example.test');
    const erin = await account.findUser('erin@example.test');
    const frank = await account.findUser('frank@example.test');
    const eventsOf = (userId: string): string[] =>
      account.database.webhookDeliveries
        .rows()
        .filter((row) => (JSON.parse(row.payload) as { data: { user_id: string } }).data.user_id === userId)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map((row) => row.eventType);

    await deleteAccount(account.context, erin.id, password);
    account.clock.advanceSeconds(60);
    await restoreAccount(
      account.context,
      account.tokenFromLatestEmail('erin@example.test', 'account_deleted'),
    );
    account.clock.advanceSeconds(60);
    await deleteAccount(account.context, frank.id, password);
    assert.deepEqual(eventsOf(erin.id), [
      'user.created',
      'user.verified',
      'user.deletion_scheduled',
      'user.deletion_cancelled',
    ]);
    assert.deepEqual(eventsOf(frank.id), ['user.created', 'user.verified', 'user.deletion_scheduled']);

    const store = createMemoryExpiredRecordsStore(account.database, account.sessions, { urls: [endpoint] });
    account.clock.advanceSeconds(6 * 24 * 60 * 60);
    assert.equal((await deleteExpiredRecords(store, account.clock, 7)).accounts, 0);
    assert.deepEqual(
      eventsOf(frank.id).at(-1),
      'user.deletion_scheduled',
      'within the grace: not deleted yet',
    );

    account.clock.advanceSeconds(2 * 24 * 60 * 60);
    assert.equal((await deleteExpiredRecords(store, account.clock, 7)).accounts, 1);
    assert.deepEqual(eventsOf(frank.id), [
      'user.created',
      'user.verified',
      'user.deletion_scheduled',
      'user.deleted',
    ]);
    assert.deepEqual(
      eventsOf(erin.id).at(-1),
      'user.deletion_cancelled',
      'the restored account is not removed',
    );
    const removal = account.database.webhookDeliveries.rows().find((row) => row.eventType === 'user.deleted');
    assert.deepEqual(JSON.parse(removal?.payload ?? '{}'), {
      type: 'user.deleted',
      timestamp: account.clock.now().toISOString(),
      data: { user_id: frank.id, actor: 'system', reason: 'success' },
    });
  });

  test('without endpoints nothing is queued', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress('dave@example.test'), password);
    assert.deepEqual(account.database.webhookDeliveries.rows(), []);
  });
});
