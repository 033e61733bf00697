import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EmailMessage } from '../../src/flows/model.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { newOutboxRow } from '../../src/storage/postgres/email-outbox.ts';
import { uniqueRunId } from '../support/backends.ts';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, readEmailedToken, uniqueEmail } from '../support/journeys.ts';
import { waitUntil } from '../support/wait.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

const oldKey = `old-secret-key-${uniqueRunId()}-${uniqueRunId()}-${uniqueRunId()}`;
const newKey = `new-secret-key-${uniqueRunId()}-${uniqueRunId()}-${uniqueRunId()}`;
const staleBacklog = 320;
// The dispatcher's production poll interval: each batch of 10 unopenable rows used to cost one, so 320 of them
// held new mail for over 30 s.
const pollMilliseconds = 1_000;
/** "A few seconds": the registration's hash, the claims that abandon the backlog, and the send. */
const newMailBoundMilliseconds = 5_000;

/**
 * Queues verification emails as the API does (same row, sealed), but under `secretKey`: the state of the
 * outbox when the service restarts with a rotated SECRET_KEY. Returns the queued addresses and their rows' ids.
 */
async function queueVerificationEmails(
  service: TestService,
  secretKey: string,
  count: number,
): Promise<{ addresses: string[]; ids: string[] }> {
  const box = createSecretBox(secretKey, 'email-outbox');
  const rows = Array.from({ length: count }, (_, index) => {
    const message: EmailMessage = {
      template: 'verify_email',
      to: uniqueEmail(`queued-${index}`),
      params: { url: `${service.baseUrl}/verify-email?token=queued-before-rotation-${index}` },
    };
    return newOutboxRow(message, { box, messageIdDomain: 'latchkey.test' });
  });
  await service.query(
    `insert into email_outbox (id, message_id, recipient, template, payload)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])`,
    [
      rows.map((row) => row.id),
      rows.map((row) => row.messageId),
      rows.map((row) => row.recipient),
      rows.map((row) => row.template),
      rows.map((row) => row.payload),
    ],
  );
  return { addresses: rows.map((row) => row.recipient), ids: rows.map((row) => row.id) };
}

async function readOutboxRows(
  service: TestService,
  ids: string[],
): Promise<{ status: string; last_error: string | null; payload: string | null }[]> {
  return service.query('select status, last_error, payload from email_outbox where id = any($1::uuid[])', [
    ids,
  ]);
}

for (const backend of availableBackends()) {
  describe(`SECRET_KEY rotation with SECRET_KEY_PREVIOUS (${backend})`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend, { SECRET_KEY: newKey, SECRET_KEY_PREVIOUS: oldKey });
    });
    after(async () => {
      await service?.close();
    });

    test('mail queued under the previous key is delivered after the rotation, link intact', async () => {
      const { addresses, ids } = await queueVerificationEmails(service, oldKey, 3);
      for (const [index, address] of addresses.entries()) {
        const token = await readEmailedToken(service.smtp, address, '/verify-email');
        assert.equal(token, `queued-before-rotation-${index}`);
      }
      await waitUntil(
        'the outbox records every email as sent',
        async () => (await readOutboxRows(service, ids)).every((row) => row.status === 'sent'),
        { timeoutMilliseconds: 10_000 },
      );
    });
  });

  describe(`SECRET_KEY rotated without SECRET_KEY_PREVIOUS (${backend})`, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(backend, {
        SECRET_KEY: newKey,
        EMAIL_DISPATCH_POLL_MS: String(pollMilliseconds),
      });
    });
    after(async () => {
      await service?.close();
    });

    test('mail sealed under an unknown key is abandoned with the reason, and the log says so', async () => {
      const { ids } = await queueVerificationEmails(service, oldKey, 1);
      const [id] = ids;
      const rows = await waitUntil(
        'the email is abandoned',
        async () => {
          const found = await readOutboxRows(service, ids);
          return found[0]?.status === 'abandoned' ? found : null;
        },
        { timeoutMilliseconds: 10_000 },
      );
      assert.equal(rows[0]?.status, 'abandoned');
      assert.match(
        rows[0]?.last_error ?? '',
        /cannot be opened with SECRET_KEY or any key of SECRET_KEY_PREVIOUS/,
      );
      assert.equal(rows[0]?.payload, null, 'the sealed payload is cleared');
      assert.ok(
        service.logLines.some((line) => line.includes(String(id)) && line.includes('email abandoned')),
        'a log line names the abandoned email',
      );
    });

    test(`${staleBacklog} such rows do not hold back a new verification email`, async () => {
      const { ids } = await queueVerificationEmails(service, oldKey, staleBacklog);
      const email = uniqueEmail('behind-backlog');
      const startedAt = Date.now();
      const registered = await new HttpClient(service.baseUrl).post('/register', {
        json: { email, password: generatePassword() },
      });
      assert.equal(registered.status, 200);
      await readEmailedToken(service.smtp, email, '/verify-email', 20_000);
      const waitedMilliseconds = Date.now() - startedAt;
      assert.ok(
        waitedMilliseconds < newMailBoundMilliseconds,
        `the verification email took ${waitedMilliseconds} ms behind ${staleBacklog} unopenable rows`,
      );
      const statuses = (await readOutboxRows(service, ids)).map((row) => row.status);
      assert.deepEqual([...new Set(statuses)], ['abandoned']);
    });
  });
}
