import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyEmailAddress } from '../../src/flows/email-verification.ts';
import {
  deleteExpiredRecords,
  expiredTokenRetentionSeconds,
  finishedEmailRetentionSeconds,
} from '../../src/flows/housekeeping.ts';
import { logIn } from '../../src/flows/login.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { findSessionByToken } from '../../src/flows/sessions.ts';
import { createMemoryExpiredRecordsStore } from '../../src/storage/memory/housekeeping.ts';
import { createMemoryAccount, emailAddress, password, sessionLifetimeSeconds } from './memory-account.ts';

const leaseSeconds = 60;

describe('housekeeping', () => {
  test('a pass deletes links a day after they expired or were used, sessions once expired, and sent mail after a week', async () => {
    const account = createMemoryAccount();
    const store = createMemoryExpiredRecordsStore(account.database, account.sessions);
    await registerAccount(account.context, emailAddress('alice@example.test'), password);
    await verifyEmailAddress(
      account.context,
      account.tokenFromLatestEmail('alice@example.test', 'verify_email'),
    );
    const { token: session } = await logIn(account.context, emailAddress('alice@example.test'), password);
    for (const entry of await account.database.outbox.claimDueEmails(10, account.clock.now(), leaseSeconds)) {
      await account.database.outbox.markEmailSent(entry.id, account.clock.now());
    }
    await registerAccount(account.context, emailAddress('bob@example.test'), password);

    // The session is over, the used link is not yet a day old, and nothing is a week old.
    account.clock.advanceSeconds(sessionLifetimeSeconds + 1);
    assert.deepEqual(await deleteExpiredRecords(store, account.clock), {
      tokens: 0,
      sessions: 1,
      emails: 0,
      accounts: 0,
      auditEvents: 0,
      webhookDeliveries: 0,
    });
    assert.equal(await findSessionByToken(account.context, session), null);

    // A day after alice's link was used; bob's unused link (24 hours) is still within its retention.
    account.clock.advanceSeconds(expiredTokenRetentionSeconds - sessionLifetimeSeconds);
    assert.deepEqual(await deleteExpiredRecords(store, account.clock), {
      tokens: 1,
      sessions: 0,
      emails: 0,
      accounts: 0,
      auditEvents: 0,
      webhookDeliveries: 0,
    });

    // A week on: bob's link expired long ago, alice's mail was sent a week ago; bob's mail is still queued.
    account.clock.advanceSeconds(finishedEmailRetentionSeconds - expiredTokenRetentionSeconds);
    assert.deepEqual(await deleteExpiredRecords(store, account.clock), {
      tokens: 1,
      sessions: 0,
      emails: 1,
      accounts: 0,
      auditEvents: 0,
      webhookDeliveries: 0,
    });
    assert.deepEqual(
      account.database.emails.map((record) => [record.message.to, record.status]),
      [['bob@example.test', 'queued']],
    );
  });
});
