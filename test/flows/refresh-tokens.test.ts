import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noAttemptBudgets } from '../../src/flows/attempt-budgets.ts';
import { deleteAccount } from '../../src/flows/account-deletion.ts';
import { deleteEndedRefreshFamilies } from '../../src/flows/housekeeping.ts';
import { confirmEmailChange, requestEmailChange } from '../../src/flows/email-change.ts';
import { logIn } from '../../src/flows/login.ts';
import { changePassword } from '../../src/flows/password-change.ts';
import { requestPasswordReset, resetPassword } from '../../src/flows/password-reset.ts';
import { refreshSession, type RefreshResult } from '../../src/flows/refresh-tokens.ts';
import {
  endOtherSessions,
  endSession,
  endUserSessions,
  findSessionByToken,
  invalidateSession,
  publicSessionId,
} from '../../src/flows/sessions.ts';
import { deriveRefreshTokenKey, generateToken, hashToken } from '../../src/security/tokens.ts';
import {
  addVerifiedAccount,
  assertFlowError,
  createMemoryAccount,
  emailAddress,
  otherPassword,
  password,
  refreshTokenSettings,
  type MemoryAccount,
} from './memory-account.ts';

const alice = 'alice@example.test';
const daySeconds = 24 * 60 * 60;

interface LoggedIn {
  readonly account: MemoryAccount;
  readonly token: string;
  readonly refreshToken: string;
}

async function logInWithRefreshToken(account?: MemoryAccount): Promise<LoggedIn> {
  const ready = account ?? (await addVerifiedAccount());
  const result = await logIn(ready.context, emailAddress(alice), password, undefined, { refreshToken: true });
  assert.ok(result.refreshToken, 'login asked for a refresh token and got none');
  return { account: ready, token: result.token, refreshToken: result.refreshToken };
}

async function assertSessionLive(account: MemoryAccount, token: string, live: boolean): Promise<void> {
  const session = await findSessionByToken(account.context, token);
  assert.equal(session !== null, live, `session expected ${live ? 'live' : 'ended'}`);
}

function reuseRecorder(): { readonly events: string[]; onReuseDetected(event: { familyId: string }): void } {
  const events: string[] = [];
  return { events, onReuseDetected: ({ familyId }) => events.push(familyId) };
}

describe('refresh tokens', () => {
  test('a login without refresh_token gets none; with it, a 43-character token stored only as its hash', async () => {
    const account = await addVerifiedAccount();
    const plain = await logIn(account.context, emailAddress(alice), password);
    assert.equal(plain.refreshToken, undefined);

    const { refreshToken } = await logInWithRefreshToken(account);
    assert.match(refreshToken, /^[A-Za-z0-9_-]{43}$/);
    const owner = await account.refreshFamilies.findTokenOwner(hashToken(refreshToken));
    assert.ok(owner);
    assert.equal(owner.generation, 0);
    assert.equal(await account.refreshFamilies.findTokenOwner(refreshToken), null);
  });

  test('a refresh gives a working new session and a new refresh token; the old session lives to its expiry', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const refreshed = await refreshSession(account.context, refreshToken);

    assert.notEqual(refreshed.token, token);
    assert.notEqual(refreshed.refreshToken, refreshToken);
    assert.equal(refreshed.expiresInSeconds, account.context.sessionLifetimeSeconds);
    const session = await findSessionByToken(account.context, refreshed.token);
    assert.equal(session?.email, alice);
    await assertSessionLive(account, token, true);
    // And the new refresh token refreshes in turn.
    account.clock.advanceSeconds(60);
    const next = await refreshSession(account.context, refreshed.refreshToken);
    await assertSessionLive(account, next.token, true);
  });

  test('replaying the predecessor within the grace answers the same current pair, and changes nothing', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    const first = await refreshSession(account.context, refreshToken);
    account.clock.advanceSeconds(refreshTokenSettings.reuseGraceSeconds);
    const again = await refreshSession(account.context, refreshToken);

    assert.deepEqual(again, first);
    await assertSessionLive(account, first.token, true);
    const next = await refreshSession(account.context, first.refreshToken);
    await assertSessionLive(account, next.token, true);
  });

  test('twenty concurrent refreshes of one token all get one identical pair; one token of the family is live', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => refreshSession(account.context, refreshToken)),
    );
    const distinct = new Set(results.map((result) => JSON.stringify(result)));
    assert.equal(distinct.size, 1);
    const [pair] = results as [RefreshResult, ...RefreshResult[]];
    const owner = await account.refreshFamilies.findTokenOwner(hashToken(pair.refreshToken));
    assert.equal(owner?.family.generation, 1);
    assert.equal(owner?.currentTokenHash, hashToken(pair.refreshToken));
    await assertSessionLive(account, pair.token, true);
  });

  test('the predecessor after the grace is a replay: the family ends with every session it minted', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const first = await refreshSession(account.context, refreshToken);
    account.clock.advanceSeconds(refreshTokenSettings.reuseGraceSeconds + 1);
    const recorder = reuseRecorder();

    await assertFlowError(
      refreshSession(account.context, refreshToken, undefined, recorder),
      'invalid_grant',
    );
    assert.equal(recorder.events.length, 1);
    await assertSessionLive(account, token, false);
    await assertSessionLive(account, first.token, false);
    const trail = await account.context.audit.listAuditEvents({
      userId: null,
      event: 'refresh_token_reuse',
      since: null,
      after: null,
      limit: 10,
    });
    assert.deepEqual(
      trail.rows.map((row) => row.outcome),
      ['family_revoked'],
    );
    // The current token of the ended family is refused too, and is no second reuse event.
    await assertFlowError(
      refreshSession(account.context, first.refreshToken, undefined, recorder),
      'invalid_grant',
    );
    assert.equal(recorder.events.length, 1);
  });

  test('an older token than the predecessor is a replay even within the grace', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    const first = await refreshSession(account.context, refreshToken);
    const second = await refreshSession(account.context, first.refreshToken);
    const recorder = reuseRecorder();

    await assertFlowError(
      refreshSession(account.context, refreshToken, undefined, recorder),
      'invalid_grant',
    );
    assert.equal(recorder.events.length, 1);
    await assertSessionLive(account, second.token, false);
    await assertFlowError(refreshSession(account.context, second.refreshToken), 'invalid_grant');
  });

  test('a family ends REFRESH_TOKEN_EXPIRE_DAYS after the login, however often it is refreshed', async () => {
    // Thirty refreshes within a real second: the per-family budget (real time) is not what is tested here.
    const loggedIn = await logInWithRefreshToken(
      await addVerifiedAccount(createMemoryAccount({ budgets: noAttemptBudgets })),
    );
    const { account } = loggedIn;
    let { refreshToken } = loggedIn;
    const steps = refreshTokenSettings.absoluteLifetimeSeconds / daySeconds;
    for (let day = 1; day < steps; day++) {
      account.clock.advanceSeconds(daySeconds);
      refreshToken = (await refreshSession(account.context, refreshToken)).refreshToken;
    }
    account.clock.advanceSeconds(daySeconds - 1);
    refreshToken = (await refreshSession(account.context, refreshToken)).refreshToken;
    account.clock.advanceSeconds(1);
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
  });

  test('a family not refreshed for the idle lifetime ends; a refresh before it restarts the idle clock', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    account.clock.advanceSeconds(refreshTokenSettings.idleLifetimeSeconds - 1);
    const refreshed = await refreshSession(account.context, refreshToken);
    account.clock.advanceSeconds(refreshTokenSettings.idleLifetimeSeconds - 1);
    const again = await refreshSession(account.context, refreshed.refreshToken);
    account.clock.advanceSeconds(refreshTokenSettings.idleLifetimeSeconds);
    await assertFlowError(refreshSession(account.context, again.refreshToken), 'invalid_grant');
  });

  test('unknown and malformed tokens, and a session token, are refused and end nothing', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    for (const candidate of [generateToken(), 'short', '', `${refreshToken}x`, token]) {
      await assertFlowError(refreshSession(account.context, candidate), 'invalid_grant');
    }
    await refreshSession(account.context, refreshToken);
  });

  test('a pair derived under another SECRET_KEY is refused without ending the family', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    const first = await refreshSession(account.context, refreshToken);
    const rotatedKey = {
      ...account.context,
      refreshTokens: { ...refreshTokenSettings, derivationKey: deriveRefreshTokenKey('another key') },
    };
    await assertFlowError(refreshSession(rotatedKey, refreshToken), 'invalid_grant');
    await assertSessionLive(account, first.token, true);
    await refreshSession(rotatedKey, first.refreshToken);
  });

  test('the per-family budget refuses refreshes beyond it with a wait', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    for (let i = 0; i < 30; i++) await refreshSession(account.context, refreshToken);
    await assert.rejects(refreshSession(account.context, refreshToken), (error: unknown) => {
      const flowError = error as { code?: string; retryAfterSeconds?: number };
      assert.equal(flowError.code, 'rate_limited');
      assert.ok((flowError.retryAfterSeconds ?? 0) > 0);
      return true;
    });
  });
});

describe('ending refresh families', () => {
  test('logout ends the family of the session logged out, and only that one', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const other = await logInWithRefreshToken(account);
    const session = await findSessionByToken(account.context, token);
    assert.ok(session);
    await invalidateSession(account.context, session);

    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
    await refreshSession(account.context, other.refreshToken);
  });

  test('a session records its family (login with refresh token, refresh) or that it has none (plain login)', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const owner = await account.refreshFamilies.findTokenOwner(hashToken(refreshToken));
    assert.ok(owner);
    assert.equal((await findSessionByToken(account.context, token))?.refreshFamilyId, owner.family.id);
    const refreshed = await refreshSession(account.context, refreshToken);
    assert.equal(
      (await findSessionByToken(account.context, refreshed.token))?.refreshFamilyId,
      owner.family.id,
    );
    const plain = await logIn(account.context, emailAddress(alice), password);
    assert.equal((await findSessionByToken(account.context, plain.token))?.refreshFamilyId, null);
  });

  test('logging out of a session stored before sessions recorded their family still ends the family', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const session = await findSessionByToken(account.context, token);
    assert.ok(session);
    const { refreshFamilyId: _unknown, ...earlier } = session;
    await account.context.sessions.deleteSession(session.tokenHash);
    await account.context.sessions.createSession(earlier);

    await invalidateSession(account.context, earlier);

    await assertSessionLive(account, token, false);
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
  });

  test('logging out of a refreshed session ends the family and the sessions minted before', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const refreshed = await refreshSession(account.context, refreshToken);
    const session = await findSessionByToken(account.context, refreshed.token);
    assert.ok(session);
    await invalidateSession(account.context, session);

    await assertSessionLive(account, token, false);
    await assertFlowError(refreshSession(account.context, refreshed.refreshToken), 'invalid_grant');
  });

  test('ending a session by its id from the list ends its family', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const other = await logIn(account.context, emailAddress(alice), password);
    const current = await findSessionByToken(account.context, other.token);
    assert.ok(current);
    await endSession(account.context, current, publicSessionId(hashToken(token)));
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
  });

  test('"log out everywhere else" ends the other families and keeps the caller\'s', async () => {
    const mine = await logInWithRefreshToken();
    const theirs = await logInWithRefreshToken(mine.account);
    const session = await findSessionByToken(mine.account.context, mine.token);
    assert.ok(session);
    await endOtherSessions(mine.account.context, session);

    await assertFlowError(refreshSession(mine.account.context, theirs.refreshToken), 'invalid_grant');
    await refreshSession(mine.account.context, mine.refreshToken);
  });

  test('a password change ends the other families and keeps the current one', async () => {
    const mine = await logInWithRefreshToken();
    const theirs = await logInWithRefreshToken(mine.account);
    const refreshed = await refreshSession(mine.account.context, mine.refreshToken);
    const session = await findSessionByToken(mine.account.context, refreshed.token);
    assert.ok(session);
    await changePassword(mine.account.context, session, password, otherPassword);

    await assertFlowError(refreshSession(mine.account.context, theirs.refreshToken), 'invalid_grant');
    await refreshSession(mine.account.context, refreshed.refreshToken);
  });

  test('a password reset ends every family', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    await requestPasswordReset(account.context, emailAddress(alice).key);
    await resetPassword(
      account.context,
      account.tokenFromLatestEmail(alice, 'password_reset'),
      otherPassword,
    );
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
  });

  test('an email change ends every family', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const session = await findSessionByToken(account.context, token);
    assert.ok(session);
    await requestEmailChange(
      account.context,
      session.userId,
      emailAddress('alice.new@example.test'),
      password,
    );
    await confirmEmailChange(
      account.context,
      account.tokenFromLatestEmail('alice.new@example.test', 'email_change_confirm'),
    );
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
  });

  test('deleting the account ends every family', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const session = await findSessionByToken(account.context, token);
    assert.ok(session);
    await deleteAccount(account.context, session.userId, password);
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
  });

  test('a deactivated account refreshes nothing, and its family ends with its sessions', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    await account.users.setUserActive((await account.findUser(alice)).id, false);
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
    await assertSessionLive(account, token, false);
    await account.users.setUserActive((await account.findUser(alice)).id, true);
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
  });

  test('a refresh in flight when the family ends mints nothing that works', async () => {
    const { account, refreshToken } = await logInWithRefreshToken();
    const user = await account.findUser(alice);
    // The ending lands between the refresh's rotation and its second look at the family.
    const store = account.refreshFamilies;
    const rotateFamily = store.rotateFamily.bind(store);
    let endedDuringRefresh = false;
    store.rotateFamily = async (input) => {
      const rotated = await rotateFamily(input);
      await endUserSessions(account.context, user.id);
      endedDuringRefresh = true;
      return rotated;
    };
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
    assert.ok(endedDuringRefresh);
    assert.deepEqual(await account.sessions.listUserSessions(user.id, account.clock.now()), []);
  });

  test('a refresh that starts after the family ended stores no session at all', async () => {
    const { account, token, refreshToken } = await logInWithRefreshToken();
    const user = await account.findUser(alice);
    const session = await findSessionByToken(account.context, token);
    assert.ok(session);
    await invalidateSession(account.context, session);
    await assertFlowError(refreshSession(account.context, refreshToken), 'invalid_grant');
    assert.deepEqual(await account.sessions.listUserSessions(user.id, account.clock.now()), []);
  });

  test('the clean-up deletes a family a day after it ended, and keeps the live ones', async () => {
    const ended = await logInWithRefreshToken();
    const { account } = ended;
    const session = await findSessionByToken(account.context, ended.token);
    assert.ok(session);
    await invalidateSession(account.context, session);
    const live = await logInWithRefreshToken(account);
    const idle = refreshTokenSettings.idleLifetimeSeconds;

    assert.equal(await deleteEndedRefreshFamilies(account.refreshFamilies, account.clock, idle), 0);
    account.clock.advanceSeconds(daySeconds + 1);
    assert.equal(await deleteEndedRefreshFamilies(account.refreshFamilies, account.clock, idle), 1);
    assert.equal(await account.refreshFamilies.findTokenOwner(hashToken(ended.refreshToken)), null);
    await refreshSession(account.context, live.refreshToken);
  });
});
