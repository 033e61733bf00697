import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { generatePassword, readEmailedToken, uniqueEmail } from '../support/journeys.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { waitUntil } from '../support/wait.ts';

describe('the outbox events of the API process', () => {
  let service: TestService;
  before(async () => {
    // A dispatcher that would look for mail once a minute on its own: only the commit's wake-up is fast.
    service = await startTestService('embedded', { EMAIL_DISPATCH_POLL_MS: '60000' });
  });
  after(() => service.close());

  test('a commit that queues mail wakes the dispatcher, and its delivery reaches the metrics', async () => {
    const client = new HttpClient(service.baseUrl);
    const email = uniqueEmail('wake');
    const sentBefore = await readSentCount(client);
    const registered = Date.now();
    assert.equal(
      (await client.post('/register', { json: { email, password: generatePassword() } })).status,
      200,
    );
    await readEmailedToken(service.smtp, email, '/verify-email', 10_000);
    assert.ok(Date.now() - registered < 10_000, 'sent long before the next poll');
    await waitUntil('the send is counted', async () => (await readSentCount(client)) === sentBefore + 1, {
      timeoutMilliseconds: 5_000,
    });
  });
});

async function readSentCount(client: HttpClient): Promise<number> {
  const metrics = await client.get('/metrics');
  const match = /^latchkey_email_deliveries_total\{outcome="sent"\} (\d+)$/m.exec(metrics.text);
  return Number(match?.[1] ?? 0);
}
