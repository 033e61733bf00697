import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DependencyUnavailableError } from '../../src/flows/errors.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { openDatabase, type Database } from '../../src/storage/postgres/database.ts';
import { PostgresOutboxQueue } from '../../src/storage/postgres/email-outbox.ts';
import { PostgresExpiredRecordsStore } from '../../src/storage/postgres/housekeeping.ts';
import { PostgresSessionStore } from '../../src/storage/postgres/session-store.ts';
import { PostgresTokenStore } from '../../src/storage/postgres/token-store.ts';
import { PostgresTransactor } from '../../src/storage/postgres/transactor.ts';
import { PostgresUserStore } from '../../src/storage/postgres/user-store.ts';
import { findFreePort } from '../support/ports.ts';

const box = createSecretBox('a secret key for the outage tests only', 'email-outbox');

/** For assert.rejects: the rejection is the ports' outage error. */
function isUnavailable(error: unknown): boolean {
  assert.ok(error instanceof DependencyUnavailableError, `rejected with ${String(error)}, not an outage`);
  return true;
}

describe('PostgreSQL adapters while the server cannot be reached', () => {
  let database: Database;
  before(async () => {
    // Nothing listens on this port: every connection attempt is refused at once.
    const port = await findFreePort();
    database = await openDatabase({
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      dataDir: '/nonexistent',
      poolSize: 2,
    });
  });
  after(async () => {
    await database?.close();
  });

  test('every store rejects with DependencyUnavailableError, so the request is answered 503, not 500', async () => {
    const db = database.db;
    const now = new Date();
    const userId = randomUUID();
    const calls: [string, () => Promise<unknown>][] = [
      ['users.findUserByEmailKey', () => new PostgresUserStore(db).findUserByEmailKey('a@example.com')],
      ['users.markUserVerified', () => new PostgresUserStore(db).markUserVerified(userId)],
      [
        'tokens.findValidToken',
        () => new PostgresTokenStore(db).findValidToken('hash', 'password_reset', now),
      ],
      ['sessions.findSession', () => new PostgresSessionStore(db).findSession('hash', now)],
      ['outbox.claimDueEmails', () => new PostgresOutboxQueue(db, { box }).claimDueEmails(10, now, 60)],
      [
        'housekeeping.deleteExpiredRecords',
        () =>
          new PostgresExpiredRecordsStore(db).deleteExpiredRecords({
            tokensBefore: now,
            sessionsBefore: now,
            accountsDeletedBefore: now,
            finishedEmailsBefore: now,
            auditEventsBefore: now,
            finishedWebhookDeliveriesBefore: now,
            passAt: now,
          }),
      ],
      [
        'transactor.runInTransaction',
        () =>
          new PostgresTransactor(db, { box, messageIdDomain: 'example.com' }).runInTransaction(({ users }) =>
            users.findUserById(userId),
          ),
      ],
    ];
    for (const [name, call] of calls) {
      await assert.rejects(call(), isUnavailable, name);
    }
  });
});
