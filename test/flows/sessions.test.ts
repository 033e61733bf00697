import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logIn } from '../../src/flows/login.ts';
import { findSessionByToken, invalidateSession } from '../../src/flows/sessions.ts';
import { generateToken } from '../../src/security/tokens.ts';
import { emailAddress, password, sessionLifetimeSeconds, addVerifiedAccount } from './memory-account.ts';

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
});
