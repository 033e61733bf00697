import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logIn } from '../../src/flows/login.ts';
import type { Session } from '../../src/flows/model.ts';
import {
  endOtherSessions,
  endSession,
  findSessionByToken,
  invalidateSession,
  listSessions,
  sessionActivityIntervalSeconds,
} from '../../src/flows/sessions.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import {
  addVerifiedAccount,
  assertFlowError,
  emailAddress,
  password,
  sessionLifetimeSeconds,
  type MemoryAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';

describe('sessions', () => {
  test('a session works until sessionLifetimeSeconds after login, and not a second longer', async () => {
    const account = await addVerifiedAccount();
    const { token } = await logIn(account.context, emailAddress(alice), password);

    account.clock.advanceSeconds(sessionLifetimeSeconds - 1);
    assert.ok(await findSessionByToken(account.context, token));
    account.clock.advanceSeconds(1);
    assert.equal(await findSessionByToken(account.context, token), null);
  });

  test('a session keeps the account as it was at login', async () => {
    const account = await addVerifiedAccount();
    const { token, user } = await logIn(account.context, emailAddress(alice), password);

    const session = await findSessionByToken(account.context, token);

    assert.deepEqual(
      {
        userId: session?.userId,
        email: session?.email,
        isActive: session?.isActive,
        isVerified: session?.isVerified,
      },
      { userId: user.id, email: alice, isActive: true, isVerified: true },
    );
  });

  test('logging out ends that session and no other', async () => {
    const account = await addVerifiedAccount();
    const first = await logIn(account.context, emailAddress(alice), password);
    const second = await logIn(account.context, emailAddress(alice), password);
    const session = await findSessionByToken(account.context, first.token);
    assert.ok(session);

    await invalidateSession(account.context, session);

    assert.equal(await findSessionByToken(account.context, first.token), null);
    assert.ok(await findSessionByToken(account.context, second.token));
  });

  test('an unknown or malformed token finds no session', async () => {
    const account = await addVerifiedAccount();

    for (const token of [generateToken(), 'not-a-token', '']) {
      assert.equal(await findSessionByToken(account.context, token), null);
    }
  });

  test('a session records when it began and ends, and the client address and user agent of the login', async () => {
    const account = await addVerifiedAccount();
    const loggedInAt = account.clock.now();
    const { token } = await logIn(account.context, emailAddress(alice), password, {
      ip: '203.0.113.9',
      userAgent: `Browser/1.0 ${'x'.repeat(400)}`,
    });

    const session = await findSessionByToken(account.context, token);

    assert.ok(session);
    assert.deepEqual(session.createdAt, loggedInAt);
    assert.deepEqual(session.lastSeenAt, loggedInAt);
    assert.equal(session.expiresAt.getTime(), loggedInAt.getTime() + sessionLifetimeSeconds * 1000);
    assert.equal(session.ip, '203.0.113.9');
    assert.equal(session.userAgent, `Browser/1.0 ${'x'.repeat(400)}`.slice(0, 256));
  });

  test('last seen is written at most once every 5 minutes of use', async () => {
    const account = await addVerifiedAccount();
    const { token } = await logIn(account.context, emailAddress(alice), password);
    const touches = countTouches(account);
    const storedLastSeen = async (): Promise<number | undefined> =>
      (await account.sessions.findSession(hashToken(token), account.clock.now()))?.lastSeenAt.getTime();
    const loggedInAt = account.clock.now().getTime();

    for (let minute = 1; minute < 5; minute++) {
      account.clock.advanceSeconds(60);
      await findSessionByToken(account.context, token);
    }
    assert.equal(touches.count, 0);
    assert.equal(await storedLastSeen(), loggedInAt);

    account.clock.advanceSeconds(60);
    const session = await findSessionByToken(account.context, token);
    assert.equal(touches.count, 1);
    assert.equal(session?.lastSeenAt.getTime(), loggedInAt + sessionActivityIntervalSeconds * 1000);
    assert.equal(await storedLastSeen(), loggedInAt + sessionActivityIntervalSeconds * 1000);
    await findSessionByToken(account.context, token);
    assert.equal(touches.count, 1);
  });

  test('the list shows every live session of the account, the current one marked, and never a token', async () => {
    const account = await addVerifiedAccount();
    await addVerifiedAccount(account, 'bob@example.test');
    const older = await logIn(account.context, emailAddress(alice), password, {
      ip: '192.0.2.1',
      userAgent: 'Old',
    });
    account.clock.advanceSeconds(60);
    const current = await logIn(account.context, emailAddress(alice), password, {
      ip: '192.0.2.2',
      userAgent: 'New',
    });
    const bobs = await logIn(account.context, emailAddress('bob@example.test'), password);
    const session = await sessionOf(account, current.token);

    const listed = await listSessions(account.context, session);

    assert.deepEqual(
      listed.map((view) => [view.ip, view.userAgent, view.current]),
      [
        ['192.0.2.2', 'New', true],
        ['192.0.2.1', 'Old', false],
      ],
    );
    const shown = JSON.stringify(listed);
    for (const token of [older.token, current.token, bobs.token]) {
      assert.ok(!shown.includes(token));
      assert.ok(!shown.includes(hashToken(token)));
    }
    assert.equal(new Set(listed.map((view) => view.id)).size, 2);
  });

  test('a session ended by its id is refused at once; the others go on', async () => {
    const account = await addVerifiedAccount();
    const current = await logIn(account.context, emailAddress(alice), password);
    const other = await logIn(account.context, emailAddress(alice), password);
    const session = await sessionOf(account, current.token);
    const otherView = (await listSessions(account.context, session)).find((view) => !view.current);
    assert.ok(otherView);

    assert.deepEqual(await endSession(account.context, session, otherView.id), { endedCurrent: false });

    assert.equal(await findSessionByToken(account.context, other.token), null);
    assert.ok(await findSessionByToken(account.context, current.token));
    await assertFlowError(endSession(account.context, session, otherView.id), 'session_not_found');
  });

  test("another account's session id and an unknown id are refused alike, and end nothing", async () => {
    const account = await addVerifiedAccount();
    await addVerifiedAccount(account, 'bob@example.test');
    const alices = await sessionOf(
      account,
      (await logIn(account.context, emailAddress(alice), password)).token,
    );
    const bob = await logIn(account.context, emailAddress('bob@example.test'), password);
    const bobs = await sessionOf(account, bob.token);
    const [bobsView] = await listSessions(account.context, bobs);
    assert.ok(bobsView);

    await assertFlowError(endSession(account.context, alices, bobsView.id), 'session_not_found');
    await assertFlowError(endSession(account.context, alices, 'f'.repeat(32)), 'session_not_found');

    assert.ok(await findSessionByToken(account.context, bob.token));
  });

  test('ending the other sessions keeps the caller only', async () => {
    const account = await addVerifiedAccount();
    const current = await logIn(account.context, emailAddress(alice), password);
    const others = [
      await logIn(account.context, emailAddress(alice), password),
      await logIn(account.context, emailAddress(alice), password),
    ];

    await endOtherSessions(account.context, await sessionOf(account, current.token));

    for (const other of others) assert.equal(await findSessionByToken(account.context, other.token), null);
    const remaining = await listSessions(account.context, await sessionOf(account, current.token));
    assert.deepEqual(
      remaining.map((view) => view.current),
      [true],
    );
  });
});

async function sessionOf(account: MemoryAccount, token: string): Promise<Session> {
  const session = await findSessionByToken(account.context, token);
  assert.ok(session);
  return session;
}

/** Counts the session store's last-seen writes from now on. */
function countTouches(account: MemoryAccount): { count: number } {
  const touches = { count: 0 };
  const touchSession = account.sessions.touchSession.bind(account.sessions);
  account.sessions.touchSession = async (session, lastSeenAt) => {
    touches.count += 1;
    await touchSession(session, lastSeenAt);
  };
  return touches;
}
