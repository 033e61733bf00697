import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyEmailAddress } from '../../src/flows/email-verification.ts';
import { logIn } from '../../src/flows/login.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import {
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

  test('without endpoints nothing is queued', async () => {
    const account = createMemoryAccount();
    await registerAccount(account.context, emailAddress('dave@example.test'), password);
    assert.deepEqual(account.database.webhookDeliveries.rows(), []);
  });
});
