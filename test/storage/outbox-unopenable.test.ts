import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EmailMessage } from '../../src/flows/model.ts';
import { createSecretBox, type SecretBox } from '../../src/security/secret-box.ts';
import type { Database } from '../../src/storage/postgres/database.ts';
import { newOutboxRow, PostgresOutboxQueue } from '../../src/storage/postgres/email-outbox.ts';
import { availableDatabaseKinds, openTestDatabase } from '../support/database.ts';

const ourKey = 'the key this deployment runs with, 32 bytes+';
const previousKey = 'the key it ran with before, 32 bytes or more';
const foreignKey = 'a key this deployment never had, 32 bytes!!';

/** Queues `count` emails sealed with `box`, due `secondsAgo` seconds ago (older first in claim order). */
async function queueSealed(
  database: Database,
  box: SecretBox,
  count: number,
  secondsAgo: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const message: EmailMessage = {
      template: 'verify_email',
      to: `queued-${index}@example.com`,
      params: { url: `https://latchkey.test/verify-email?token=${index}` },
    };
    const row = newOutboxRow(message, { box, messageIdDomain: 'latchkey.test' });
    await database.pool.query(
      `insert into email_outbox (id, message_id, recipient, template, payload, next_attempt_at)
       values ($1, $2, $3, $4, $5, now() - make_interval(secs => $6))`,
      [row.id, row.messageId, row.recipient, row.template, row.payload, secondsAgo],
    );
    ids.push(row.id);
  }
  return ids;
}

for (const kind of availableDatabaseKinds()) {
  describe(`outbox claims past rows no key opens (${kind})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(kind);
    });
    after(async () => {
      await database?.close();
    });

    test('one claim abandons every unopenable row ahead and still returns a full batch of the rest', async () => {
      const foreign = await queueSealed(database, createSecretBox(foreignKey, 'email-outbox'), 25, 60);
      const previous = await queueSealed(database, createSecretBox(previousKey, 'email-outbox'), 4, 30);
      const current = await queueSealed(database, createSecretBox(ourKey, 'email-outbox'), 8, 10);
      const told: string[] = [];
      const queue = new PostgresOutboxQueue(database.db, {
        box: createSecretBox([ourKey, previousKey], 'email-outbox'),
        onUnopenable: (id) => told.push(id),
      });

      const claimed = await queue.claimDueEmails(10, new Date(), 60);
      assert.equal(claimed.length, 10, 'a full batch: the dispatcher claims again at once');
      assert.deepEqual(
        new Set(claimed.map((entry) => entry.id)),
        new Set([...previous, ...current.slice(0, 6)]),
        'mail sealed under a previous key opens, and comes first as it is older',
      );
      assert.deepEqual(new Set(told), new Set(foreign));
      const { rows } = await database.pool.query<{
        status: string;
        last_error: string;
        payload: string | null;
      }>('select status, last_error, payload from email_outbox where id = any($1::uuid[])', [foreign]);
      assert.equal(rows.length, 25);
      for (const row of rows) {
        assert.equal(row.status, 'abandoned');
        assert.match(row.last_error, /cannot be opened with SECRET_KEY or any key of SECRET_KEY_PREVIOUS/);
        assert.equal(row.payload, null);
      }
      const rest = await queue.claimDueEmails(10, new Date(), 60);
      assert.deepEqual(
        new Set(rest.map((entry) => entry.id)),
        new Set(current.slice(6)),
        'the rest of the good mail, and a short batch once nothing more is due',
      );
    });
  });
}
