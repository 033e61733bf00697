import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AdminContext } from '../../src/flows/admin-context.ts';
import { authenticateAdminKey, createAdminKey, revokeAdminKey } from '../../src/flows/admin-keys.ts';
import { hideAddresses, listAuditEvents, listOutboxEmails } from '../../src/flows/admin-records.ts';
import {
  deleteUser,
  disableUser,
  enableUser,
  findUserByEmail,
  listUsers,
  resendUserVerification,
  sendUserPasswordReset,
  showUser,
} from '../../src/flows/admin-users.ts';
import { runWithAuditOrigin } from '../../src/flows/audit.ts';
import type { AccountContext } from '../../src/flows/context.ts';
import { logIn } from '../../src/flows/login.ts';
import { registerAccount } from '../../src/flows/registration.ts';
import { findSessionByToken } from '../../src/flows/sessions.ts';
import type { SessionStore } from '../../src/flows/ports.ts';
import { generateToken } from '../../src/security/tokens.ts';
import { MemoryAdminKeyStore } from '../../src/storage/memory/admin-key-store.ts';
import { MemoryOutboxBrowser } from '../../src/storage/memory/outbox-browser.ts';
import { MemoryWebhookQueue } from '../../src/storage/memory/webhook-deliveries.ts';
import { MemoryWebhookEndpointStore } from '../../src/storage/memory/webhook-endpoints.ts';
import { MemoryUserDirectory } from '../../src/storage/memory/user-directory.ts';
import {
  addVerifiedAccount,
  assertFlowError,
  createMemoryAccount,
  emailAddress,
  password,
  type MemoryAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';

function adminOf(account: MemoryAccount, context: AccountContext = account.context): AdminContext {
  return {
    account: context,
    adminKeys: new MemoryAdminKeyStore(account.database),
    directory: new MemoryUserDirectory(account.database),
    outbox: new MemoryOutboxBrowser(account.database.outbox.records),
    webhookDeliveries: new MemoryWebhookQueue(account.database),
    webhookEndpoints: new MemoryWebhookEndpointStore(account.database),
    webhookSettings: { envUrls: [], allowPrivateTargets: false },
  };
}

const auditRows = (account: MemoryAccount) =>
  account.database.auditEvents.rows().sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());

describe('admin: disabling an account', () => {
  test('a login racing the disable leaves no live session: its session, stored after the sessions were ended, is ended by the login itself', async () => {
    const account = await addVerifiedAccount();
    const user = await account.findUser(alice);
    const admin = adminOf(account);
    // The login has checked the password; just before its session is stored, the disable commits and ends
    // every session.
    const store = account.sessions;
    const sessions: SessionStore = {
      createSession: async (session) => {
        await disableUser(admin, user.id);
        await store.createSession(session);
      },
      findSession: (hash, now) => store.findSession(hash, now),
      deleteSession: (hash) => store.deleteSession(hash),
      deleteUserSessions: (userId) => store.deleteUserSessions(userId),
      deleteOtherUserSessions: (userId, kept) => store.deleteOtherUserSessions(userId, kept),
      listUserSessions: (userId, now) => store.listUserSessions(userId, now),
      touchSession: (session, at) => store.touchSession(session, at),
    };
    const racing = { ...account.context, sessions };

    await assertFlowError(logIn(racing, emailAddress(alice), password), 'account_disabled');
    assert.deepEqual(await account.sessions.listUserSessions(user.id, account.clock.now()), []);
  });

  test('sessions from before the disable die at once; login answers account_disabled until enabled', async () => {
    const account = await addVerifiedAccount();
    const user = await account.findUser(alice);
    const admin = adminOf(account);
    const { token } = await logIn(account.context, emailAddress(alice), password);

    await disableUser(admin, user.id);

    assert.equal(await findSessionByToken(account.context, token), null);
    await assertFlowError(logIn(account.context, emailAddress(alice), password), 'account_disabled');
    await enableUser(admin, user.id);
    const again = await logIn(account.context, emailAddress(alice), password);
    assert.ok(await findSessionByToken(account.context, again.token));
  });

  test('an id that is not a UUID is malformed_id; an unknown one is user_not_found', async () => {
    const admin = adminOf(await addVerifiedAccount());
    await assertFlowError(disableUser(admin, "1' or '1'='1"), 'malformed_id');
    await assertFlowError(showUser(admin, '00000000-0000-4000-8000-000000000000'), 'user_not_found');
  });
});

describe('admin: the audit trail', () => {
  test('an event is recorded only if its change commits: a deletion that fails leaves no deletion event', async () => {
    const account = await addVerifiedAccount();
    const user = await account.findUser(alice);
    const failing: AccountContext = {
      ...account.context,
      transactor: {
        ...account.context.transactor,
        runInTransaction: (work) =>
          account.context.transactor.runInTransaction((stores) =>
            work({
              ...stores,
              outbox: {
                enqueueEmail: async () => {
                  throw new Error('the outbox refuses');
                },
              },
            }),
          ),
      },
    };

    await assert.rejects(deleteUser(adminOf(account, failing), user.id), /the outbox refuses/);

    assert.equal((await account.findUser(alice)).deletedAt, null);
    assert.deepEqual(
      auditRows(account).filter((row) => row.event === 'admin_delete'),
      [],
    );
    await deleteUser(adminOf(account), user.id);
    assert.equal(auditRows(account).filter((row) => row.event === 'admin_delete').length, 1);
  });

  test('events carry the origin of the request or command that caused them, and never an address', async () => {
    const account = createMemoryAccount();
    const origin = {
      ip: '198.51.100.4',
      userAgent: 'Firefox/140',
      requestId: 'req-42',
      actor: 'self' as const,
    };
    await runWithAuditOrigin(origin, () => registerAccount(account.context, emailAddress(alice), password));
    const user = await account.findUser(alice);
    await runWithAuditOrigin({ ...origin, actor: 'cli' }, () => disableUser(adminOf(account), user.id));
    await assertFlowError(
      logIn(account.context, emailAddress(alice), 'not the password at all'),
      'invalid_credentials',
    );

    const rows = auditRows(account);
    assert.deepEqual(
      rows.map((row) => [
        row.event,
        row.outcome,
        row.actor,
        row.ip,
        row.userAgent,
        row.requestId,
        row.userId,
      ]),
      [
        ['registration', 'success', 'self', '198.51.100.4', 'Firefox/140', 'req-42', user.id],
        ['admin_disable', 'success', 'cli', '198.51.100.4', 'Firefox/140', 'req-42', user.id],
        ['login', 'invalid_credentials', 'system', null, null, null, user.id],
      ],
    );
    assert.ok(!JSON.stringify(rows).includes('alice'));
    assert.ok(!JSON.stringify(rows).includes(password));
  });

  test('the trail pages by user and event', async () => {
    const account = await addVerifiedAccount();
    const user = await account.findUser(alice);
    const admin = adminOf(account);
    for (let round = 0; round < 3; round += 1) {
      await logIn(account.context, emailAddress(alice), password);
      account.clock.advanceSeconds(1);
    }
    const first = await listAuditEvents(admin, { userId: user.id, event: 'login', limit: 2 });
    assert.equal(first.events.length, 2);
    assert.ok(first.nextCursor);
    const second = await listAuditEvents(admin, {
      userId: user.id,
      event: 'login',
      cursor: first.nextCursor,
      limit: 2,
    });
    assert.equal(second.events.length, 1);
    assert.equal(second.nextCursor, null);
    await assertFlowError(listAuditEvents(admin, { cursor: 'bm90IGEgY3Vyc29y' }), 'invalid_cursor');
  });
});

describe('admin: finding and listing accounts', () => {
  test('a lookup by address is normalised as login normalises it', async () => {
    const account = await addVerifiedAccount();
    const page = await findUserByEmail(adminOf(account), '  ALICE@Example.TEST ');
    assert.deepEqual(
      page.users.map((user) => user.email),
      [alice],
    );
    assert.deepEqual((await findUserByEmail(adminOf(account), 'nobody@example.test')).users, []);
  });

  test('120 accounts, 50 a page: three pages see each once, and only the last says it is the end', async () => {
    const account = createMemoryAccount();
    for (let index = 0; index < 120; index += 1) {
      await registerAccount(account.context, emailAddress(`user${index}@example.test`), password);
      if (index % 7 === 0) account.clock.advanceSeconds(1);
    }
    const admin = adminOf(account);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await listUsers(admin, { ...(cursor === undefined ? {} : { cursor }) });
      sizes.push(page.users.length);
      seen.push(...page.users.map((user) => user.email));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    assert.deepEqual(sizes, [50, 50, 20]);
    assert.equal(new Set(seen).size, 120);
    const matching = await listUsers(admin, { containing: 'USER11', limit: 100 });
    assert.deepEqual(matching.users.map((user) => user.email).sort(), [
      'user110@example.test',
      'user111@example.test',
      'user112@example.test',
      'user113@example.test',
      'user114@example.test',
      'user115@example.test',
      'user116@example.test',
      'user117@example.test',
      'user118@example.test',
      'user119@example.test',
      'user11@example.test',
    ]);
  });

  test("an account's page shows its last login, live sessions and pending deletion", async () => {
    const account = await addVerifiedAccount();
    const user = await account.findUser(alice);
    const admin = adminOf(account);
    await logIn(account.context, emailAddress(alice), password);
    await logIn(account.context, emailAddress(alice), password);
    const details = await showUser(admin, user.id);
    assert.equal(details.sessionCount, 2);
    assert.deepEqual(details.lastLoginAt, account.clock.now());
    assert.equal(details.pendingEmailChange, null);
    await deleteUser(admin, user.id);
    const deleted = await showUser(admin, user.id);
    assert.notEqual(deleted.deletedAt, null);
    assert.equal(deleted.sessionCount, 0);
    assert.equal(account.emailsTo(alice).at(-1)?.template, 'account_deleted');
  });
});

describe('admin: emails to the owner', () => {
  test('a reset link goes to the owner; a verification link only to an unverified account', async () => {
    const account = await addVerifiedAccount();
    const user = await account.findUser(alice);
    const admin = adminOf(account);
    await sendUserPasswordReset(admin, user.id);
    assert.equal(account.emailsTo(alice).at(-1)?.template, 'password_reset');
    await assertFlowError(resendUserVerification(admin, user.id), 'already_verified');

    await registerAccount(account.context, emailAddress('bob@example.test'), password);
    const bob = await account.findUser('bob@example.test');
    await resendUserVerification(admin, bob.id);
    assert.equal(account.emailsTo('bob@example.test').length, 2);
  });

  test('the outbox listing shows the domain, never the address or the link', async () => {
    const account = await addVerifiedAccount();
    const user = await account.findUser(alice);
    const admin = adminOf(account);
    await sendUserPasswordReset(admin, user.id);
    const [record] = await account.database.outbox.claimDueEmails(10, account.clock.now(), 60);
    assert.ok(record);
    await account.database.outbox.scheduleEmailRetry(
      record.id,
      account.clock.now(),
      '550 <alice@example.test>: no',
    );
    const retrying = await listOutboxEmails(admin, { status: 'retrying' });
    assert.equal(retrying.emails.length, 1);
    assert.equal(retrying.emails[0]?.recipientDomain, 'example.test');
    assert.ok(!JSON.stringify(retrying).includes('alice'));
    assert.equal(
      hideAddresses('550 5.1.1 <bob.smith@mail.example>: unknown'),
      '550 5.1.1 <…@mail.example>: unknown',
    );
  });
});

describe('admin keys', () => {
  test('only a live admin key passes: none is 401, anything else 403 alike; last use is written at most once a minute', async () => {
    const account = createMemoryAccount();
    const admin = adminOf(account);
    const { key, adminKey } = await createAdminKey(admin, 'ops');
    assert.match(key, /^lk_admin_[A-Za-z0-9_-]{43}$/);

    await assertFlowError(authenticateAdminKey(admin, undefined), 'admin_key_required');
    await assertFlowError(authenticateAdminKey(admin, `Basic ${key}`), 'admin_key_required');
    for (const wrong of [`lk_admin_${generateToken()}`, generateToken(), `${key}x`]) {
      await assertFlowError(authenticateAdminKey(admin, `Bearer ${wrong}`), 'admin_key_refused');
    }
    assert.equal((await authenticateAdminKey(admin, `Bearer ${key}`)).id, adminKey.id);
    const firstUse = account.clock.now();
    account.clock.advanceSeconds(30);
    await authenticateAdminKey(admin, `Bearer ${key}`);
    assert.deepEqual((await admin.adminKeys.listAdminKeys())[0]?.lastUsedAt, firstUse);
    account.clock.advanceSeconds(31);
    await authenticateAdminKey(admin, `Bearer ${key}`);
    assert.deepEqual((await admin.adminKeys.listAdminKeys())[0]?.lastUsedAt, account.clock.now());

    assert.equal(await revokeAdminKey(admin, adminKey.id), true);
    await assertFlowError(authenticateAdminKey(admin, `Bearer ${key}`), 'admin_key_refused');
  });
});
