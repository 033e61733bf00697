import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { AuditRecord } from '../../src/flows/audit.ts';
import type {
  AdminKeyStore,
  AuditTrail,
  OutboxBrowser,
  OutboxQueue,
  PagePosition,
  Transactor,
  UserDirectory,
} from '../../src/flows/ports.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { describeContract } from './describe-contract.ts';

/** The operators' stores on one backend, with what a rule needs to set rows up. */
export interface AdminStoresUnderTest {
  readonly audit: AuditTrail;
  readonly adminKeys: AdminKeyStore;
  readonly directory: UserDirectory;
  readonly transactor: Transactor;
  readonly outbox: OutboxBrowser;
  /** The dispatcher's side of the same outbox, to move entries along. */
  readonly queue: OutboxQueue;
  /** A new account with that address (as typed; its key is the lower case). */
  createUser(email: string): Promise<string>;
  close(): Promise<void>;
}

function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    event: 'login',
    outcome: 'success',
    userId: null,
    occurredAt: new Date(),
    ip: '192.0.2.7',
    userAgent: 'contract-test/1.0',
    actor: 'self',
    requestId: 'req-1',
    ...overrides,
  };
}

/** Follows every page of a listing from the start; the rows in order. */
async function readEveryPage<Row>(
  readPage: (after: PagePosition | null) => Promise<{ rows: readonly Row[]; next: PagePosition | null }>,
): Promise<Row[]> {
  const rows: Row[] = [];
  let after: PagePosition | null = null;
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = await readPage(after);
    rows.push(...page.rows);
    if (page.next === null) return rows;
    after = page.next;
  }
  throw new Error('the listing never ended');
}

/**
 * The rules of AuditTrail, AdminKeyStore and UserDirectory; every adapter runs them. One fixture serves the
 * suite, so each rule works on accounts and events of its own (a unique user id or address text).
 */
export function describeAdminStoresContract(
  adapterName: string,
  open: () => Promise<AdminStoresUnderTest>,
): void {
  describeContract(`admin stores contract: ${adapterName}`, open, 'suite', (underTest) => {
    test('an audit event is stored with everything it was given, and found by account and by event', async () => {
      const userId = await underTest().createUser(`audited-${randomUUID()}@example.test`);
      const occurredAt = new Date('2026-03-01T10:00:00.123Z');
      await underTest().audit.appendAuditEvent(auditRecord({ userId, occurredAt, actor: 'admin:key-1' }));
      await underTest().audit.appendAuditEvent(auditRecord({ userId, event: 'logout', occurredAt }));

      const page = await underTest().audit.listAuditEvents({
        userId,
        event: 'login',
        since: null,
        after: null,
        limit: 10,
      });
      assert.equal(page.rows.length, 1);
      const { id, ...stored } = page.rows[0] ?? assert.fail('no event');
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(stored, auditRecord({ userId, occurredAt, actor: 'admin:key-1' }));
      assert.equal(page.next, null);
    });

    test('paging through 23 events, 5 at a time, sees each exactly once, oldest first, and only then ends', async () => {
      const userId = await underTest().createUser(`paged-${randomUUID()}@example.test`);
      const base = Date.parse('2026-04-01T00:00:00Z');
      // Several events share a millisecond: the id breaks the tie.
      for (let index = 0; index < 23; index += 1) {
        await underTest().audit.appendAuditEvent(
          auditRecord({ userId, occurredAt: new Date(base + Math.floor(index / 3)), requestId: `r${index}` }),
        );
      }
      const seen = await readEveryPage((after) =>
        underTest().audit.listAuditEvents({ userId, event: null, since: null, after, limit: 5 }),
      );
      assert.equal(seen.length, 23);
      assert.equal(new Set(seen.map((event) => event.id)).size, 23);
      const times = seen.map((event) => event.occurredAt.getTime());
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      const since = await underTest().audit.listAuditEvents({
        userId,
        event: null,
        since: new Date(base + 7),
        after: null,
        limit: 100,
      });
      assert.equal(since.rows.length, 2, 'events at or after `since` only');
    });

    test('an audit event recorded in a transaction that fails is not stored; one that commits is', async () => {
      const userId = await underTest().createUser(`rollback-${randomUUID()}@example.test`);
      await assert.rejects(
        underTest().transactor.runInTransaction(async (stores) => {
          await stores.audit.appendAuditEvent(auditRecord({ userId, event: 'password_change' }));
          await stores.users.setUserActive(userId, false);
          throw new Error('the change fails');
        }),
      );
      await underTest().transactor.runInTransaction(async (stores) => {
        await stores.audit.appendAuditEvent(auditRecord({ userId, event: 'admin_disable' }));
      });
      const page = await underTest().audit.listAuditEvents({
        userId,
        event: null,
        since: null,
        after: null,
        limit: 10,
      });
      assert.deepEqual(
        page.rows.map((event) => event.event),
        ['admin_disable'],
      );
    });

    test('an admin key is found by its hash until revoked, listed without its hash, and revoked once', async () => {
      const key = generateToken();
      const created = await underTest().adminKeys.insertAdminKey({ name: 'ops', keyHash: hashToken(key) });
      assert.equal(created.name, 'ops');
      assert.equal(created.lastUsedAt, null);
      assert.equal(created.revokedAt, null);
      assert.deepEqual(await underTest().adminKeys.findAdminKeyByHash(hashToken(key)), created);
      assert.equal(await underTest().adminKeys.findAdminKeyByHash(hashToken(generateToken())), null);
      const listed = (await underTest().adminKeys.listAdminKeys()).find((entry) => entry.id === created.id);
      assert.deepEqual(listed, created);
      assert.ok(!JSON.stringify(await underTest().adminKeys.listAdminKeys()).includes(hashToken(key)));

      const at = new Date('2026-05-01T12:00:00Z');
      assert.equal(await underTest().adminKeys.revokeAdminKey(created.id, at), true);
      assert.equal(await underTest().adminKeys.revokeAdminKey(created.id, new Date()), false);
      assert.equal(await underTest().adminKeys.revokeAdminKey(randomUUID(), new Date()), false);
      assert.deepEqual((await underTest().adminKeys.findAdminKeyByHash(hashToken(key)))?.revokedAt, at);
    });

    test("a key's last use is written at most once per interval", async () => {
      const key = generateToken();
      const { id } = await underTest().adminKeys.insertAdminKey({ name: 'cron', keyHash: hashToken(key) });
      const first = new Date('2026-05-01T12:00:00Z');
      const minute = 60_000;
      await underTest().adminKeys.recordAdminKeyUse(id, first, new Date(first.getTime() - minute));
      const soon = new Date(first.getTime() + 10_000);
      await underTest().adminKeys.recordAdminKeyUse(id, soon, new Date(soon.getTime() - minute));
      const lastUsed = async () =>
        (await underTest().adminKeys.findAdminKeyByHash(hashToken(key)))?.lastUsedAt;
      assert.deepEqual(await lastUsed(), first);
      const later = new Date(first.getTime() + minute);
      await underTest().adminKeys.recordAdminKeyUse(id, later, new Date(later.getTime() - minute));
      assert.deepEqual(await lastUsed(), later);
    });

    test('listing accounts pages through every one exactly once, by creation time, and `containing` matches any part of the address', async () => {
      const tag = randomUUID().slice(0, 8);
      const created: string[] = [];
      for (let index = 0; index < 12; index += 1) {
        created.push(await underTest().createUser(`Person${index}.${tag}@Example.test`));
      }
      const seen = await readEveryPage((after) =>
        underTest().directory.listUsers({ containing: tag, after, limit: 5 }),
      );
      assert.equal(seen.length, created.length);
      assert.deepEqual(seen.map((user) => user.id).sort(), [...created].sort());
      const times = seen.map((user) => user.createdAt.getTime());
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      const one = await underTest().directory.listUsers({
        containing: `person11.${tag}@example`,
        after: null,
        limit: 5,
      });
      assert.deepEqual(
        one.rows.map((user) => user.id),
        [created[11]],
      );
      const literal = await underTest().directory.listUsers({ containing: `${tag}%`, after: null, limit: 5 });
      assert.equal(literal.rows.length, 0, 'a % in the search text is a character, not a wildcard');
      const exact = await underTest().directory.listUsers({ containing: tag, after: null, limit: 12 });
      assert.equal(exact.rows.length, 12);
      assert.equal(exact.next, null, 'a page that ends the listing says so');
    });

    test("an account's last login is its latest successful login event", async () => {
      const userId = await underTest().createUser(`login-${randomUUID()}@example.test`);
      assert.equal(await underTest().directory.findLastLoginAt(userId), null);
      const earlier = new Date('2026-02-01T08:00:00Z');
      const later = new Date('2026-02-02T08:00:00Z');
      await underTest().audit.appendAuditEvent(auditRecord({ userId, occurredAt: earlier }));
      await underTest().audit.appendAuditEvent(auditRecord({ userId, occurredAt: later }));
      await underTest().audit.appendAuditEvent(
        auditRecord({ userId, occurredAt: new Date('2026-02-03T08:00:00Z'), outcome: 'invalid_credentials' }),
      );
      assert.deepEqual(await underTest().directory.findLastLoginAt(userId), later);
    });

    test('the outbox listing has unsent and abandoned mail by status, never sent mail, every entry once across pages', async () => {
      const domain = `${randomUUID().slice(0, 8)}.example`;
      const enqueue = (local: string) =>
        underTest().transactor.runInTransaction((stores) =>
          stores.outbox.enqueueEmail({
            template: 'password_changed',
            to: `${local}@${domain}`,
            params: { resetUrl: 'https://auth.example.test/reset-password' },
          }),
        );
      for (const local of ['retried', 'abandoned', 'sent']) await enqueue(local);
      const claimed = await underTest().queue.claimDueEmails(100, new Date(Date.now() + 1000), 60);
      const byRecipient = async (local: string) => {
        const page = await underTest().outbox.listOutboxEmails({ status: null, after: null, limit: 100 });
        return page.rows.find((row) => row.recipient === `${local}@${domain}`);
      };
      assert.equal(claimed.length, 3);
      for (const entry of claimed) {
        if (entry.message.to.startsWith('retried')) {
          await underTest().queue.scheduleEmailRetry(entry.id, new Date(Date.now() + 60_000), '421 busy');
        } else if (entry.message.to.startsWith('abandoned')) {
          await underTest().queue.markEmailAbandoned(entry.id, '550 no such user');
        } else {
          await underTest().queue.markEmailSent(entry.id, new Date());
        }
      }
      await enqueue('queued');

      assert.equal((await byRecipient('retried'))?.status, 'retrying');
      assert.equal((await byRecipient('retried'))?.lastError, '421 busy');
      assert.equal((await byRecipient('retried'))?.attempts, 1);
      assert.equal((await byRecipient('abandoned'))?.status, 'abandoned');
      assert.equal((await byRecipient('queued'))?.status, 'queued');
      assert.equal(await byRecipient('sent'), undefined, 'sent mail is not listed');
      for (const status of ['queued', 'retrying', 'abandoned'] as const) {
        const page = await underTest().outbox.listOutboxEmails({ status, after: null, limit: 100 });
        assert.deepEqual(
          page.rows.filter((row) => row.recipient.endsWith(domain)).map((row) => row.status),
          [status],
        );
      }
      const seen = await readEveryPage((after) =>
        underTest().outbox.listOutboxEmails({ status: null, after, limit: 1 }),
      );
      const ours = seen.filter((row) => row.recipient.endsWith(domain));
      assert.equal(ours.length, 3);
      assert.equal(new Set(seen.map((row) => row.id)).size, seen.length);
    });

    test('a pending email change is the address of a usable confirm token', async () => {
      const userId = await underTest().createUser(`changing-${randomUUID()}@example.test`);
      const now = new Date();
      assert.equal(await underTest().directory.findPendingEmailChange(userId, now), null);
      await underTest().transactor.runInTransaction(async (stores) => {
        await stores.tokens.createToken({
          tokenHash: hashToken(generateToken()),
          purpose: 'email_change_confirm',
          userId,
          expiresAt: new Date(now.getTime() + 60_000),
          email: 'new@example.test',
        });
      });
      assert.equal(await underTest().directory.findPendingEmailChange(userId, now), 'new@example.test');
      assert.equal(
        await underTest().directory.findPendingEmailChange(userId, new Date(now.getTime() + 120_000)),
        null,
        'an expired link is no pending change',
      );
    });
  });
}
