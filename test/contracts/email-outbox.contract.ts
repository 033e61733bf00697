import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, beforeEach, test } from 'node:test';
import type { EmailMessage, User } from '../../src/flows/model.ts';
import type { OutboxEntry, OutboxQueue, TokenEmail, Transactor } from '../../src/flows/ports.ts';
import { generateToken, hashToken } from '../../src/security/tokens.ts';
import { describeContract } from './describe-contract.ts';

/** One outbox entry as stored, for the rules about what a copy of the table would reveal. */
export interface StoredOutboxEntry {
  readonly id: string;
  readonly status: 'queued' | 'processing' | 'sent' | 'abandoned';
  /** The message as stored (sealed), or null once cleared. */
  readonly payload: string | null;
  readonly lastError: string | null;
  /** Every stored field as text, to check that no secret sits anywhere in the entry. */
  readonly storedText: string;
}

export interface EmailOutboxUnderTest {
  /** A transactor whose outbox seals messages with a key derived from `secretKey`, as the service builds it. */
  createTransactor(options: {
    readonly secretKey: string;
    readonly messageIdDomain: string;
    readonly onEmailCommitted?: () => void;
  }): Transactor;
  /** One more dispatcher's queue on the same outbox (its own instance, the same storage). */
  createQueue(options: { readonly secretKey: string }): OutboxQueue;
  listStoredEntries(): Promise<StoredOutboxEntry[]>;
  /** Empties the outbox, so that every rule starts from an empty queue. */
  clearOutbox(): Promise<void>;
  close(): Promise<void>;
}

const secretKey = 'contract-secret-key-0123456789abcdef0123456789';
const previousSecretKey = 'contract-previous-secret-key-fedcba9876543210fe';
const messageIdDomain = 'mail.latchkey.test';
const leaseSeconds = 60;
const messageIdPattern =
  /^<[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@mail\.latchkey\.test>$/;
const farFuture = new Date('2200-01-01T00:00:00Z');

/**
 * The outbox rules (Transactor + EmailOutbox on the writing side, OutboxQueue on the dispatcher's side); every
 * adapter runs them. One outbox serves the whole suite (a database takes seconds to create) and is emptied
 * before each rule.
 */
export function describeEmailOutboxContract(
  adapterName: string,
  createOutbox: () => Promise<EmailOutboxUnderTest>,
  /**
   * True for an outbox kept in a database (PostgreSQL): what a copy of the table holds is then part of the
   * contract, so messages are sealed under SECRET_KEY and cleared once finished. An outbox in memory (tests)
   * has no copy to take and dies with its process and key, so those rules do not apply to it.
   */
  options: { sealsStoredMessages: boolean },
): void {
  const sealedTest = options.sealsStoredMessages ? test : () => {};
  describeContract(`Email outbox contract: ${adapterName}`, createOutbox, 'suite', (underTest) => {
    let transactor: Transactor;
    let queue: OutboxQueue;

    before(() => {
      transactor = underTest().createTransactor({ secretKey, messageIdDomain });
      queue = underTest().createQueue({ secretKey });
    });

    beforeEach(async () => {
      await underTest().clearOutbox();
    });

    function buildResetMessage(): { message: EmailMessage; token: string } {
      const token = generateToken();
      return {
        token,
        message: {
          template: 'password_reset',
          to: `user-${randomUUID()}@example.test`,
          params: { url: `https://auth.example.test/reset-password?token=${token}` },
        },
      };
    }

    async function enqueueCommitted(messages: EmailMessage[], through = transactor): Promise<void> {
      await through.runInTransaction(async (stores) => {
        for (const message of messages) await stores.outbox.enqueueEmail(message);
      });
    }

    /**
     * A claim time a second after now: a fresh entry is due "now" by the database's clock, and the rule that a
     * claim made right at commit time sees it has a test of its own.
     */
    function claimTime(): Date {
      return new Date(Date.now() + 1000);
    }

    function secondsAfter(time: Date, seconds: number): Date {
      return new Date(time.getTime() + seconds * 1000);
    }

    async function claimOne(at: Date, from = queue): Promise<OutboxEntry> {
      const entries = await from.claimDueEmails(10, at, leaseSeconds);
      assert.equal(entries.length, 1, `claimed ${entries.length} entries`);
      const [entry] = entries;
      assert.ok(entry);
      return entry;
    }

    async function findStoredEntry(id: string): Promise<StoredOutboxEntry> {
      const stored = (await underTest().listStoredEntries()).find((entry) => entry.id === id);
      assert.ok(stored, `no stored entry ${id}`);
      return stored;
    }

    test('an email queued in a transaction that throws is never sent: it rolls back with the rows that promised it', async () => {
      const { message } = buildResetMessage();
      const emailKey = `user-${randomUUID()}@example.test`;

      await assert.rejects(
        transactor.runInTransaction(async (stores) => {
          await stores.users.insertUser({ email: emailKey, emailKey, passwordHash: 'hash' });
          await stores.outbox.enqueueEmail(message);
          throw new Error('the flow failed after queueing');
        }),
        /the flow failed after queueing/,
      );

      assert.deepEqual(await queue.claimDueEmails(10, farFuture, leaseSeconds), []);
      assert.deepEqual(await underTest().listStoredEntries(), []);
      assert.equal(
        await transactor.runInTransaction((stores) => stores.users.findUserByEmailKey(emailKey)),
        null,
      );
    });

    test('a committed email is claimed once, decrypted intact, with a message id <uuid@domain> and one attempt', async () => {
      const { message } = buildResetMessage();
      const queuedAtMs = Date.now();
      await enqueueCommitted([message]);
      const at = claimTime();

      const entry = await claimOne(at);

      assert.deepEqual(entry.message, message);
      assert.match(entry.messageId, messageIdPattern);
      assert.equal(entry.attempts, 1);
      assert.ok(entry.createdAt instanceof Date);
      assert.ok(
        Math.abs(entry.createdAt.getTime() - queuedAtMs) < 60_000,
        `createdAt ${entry.createdAt.toISOString()}`,
      );
      assert.deepEqual(await queue.claimDueEmails(10, at, leaseSeconds), []);
    });

    test('emails get distinct message ids', async () => {
      await enqueueCommitted([buildResetMessage().message, buildResetMessage().message]);

      const entries = await queue.claimDueEmails(10, claimTime(), leaseSeconds);

      assert.equal(entries.length, 2);
      assert.notEqual(entries[0]?.messageId, entries[1]?.messageId);
      assert.notEqual(entries[0]?.id, entries[1]?.id);
    });

    sealedTest(
      'the stored entry never holds the link or its token in plaintext: the payload is sealed',
      async () => {
        const { message, token } = buildResetMessage();
        await enqueueCommitted([message]);

        const [stored, ...others] = await underTest().listStoredEntries();

        assert.equal(others.length, 0);
        assert.ok(stored);
        assert.ok(stored.payload !== null && stored.payload.length > 0, 'payload is empty');
        assert.ok(!stored.payload.includes(token), 'payload holds the token');
        assert.ok(!stored.payload.includes('reset-password'), 'payload holds the link');
        assert.ok(!stored.storedText.includes(token), 'the stored entry holds the token');
        assert.ok(!stored.storedText.includes('https://'), 'the stored entry holds the link');
      },
    );

    test('a claim takes at most `limit` emails, and the rest stay due', async () => {
      await enqueueCommitted([
        buildResetMessage().message,
        buildResetMessage().message,
        buildResetMessage().message,
      ]);
      const at = claimTime();

      const first = await queue.claimDueEmails(2, at, leaseSeconds);
      const second = await queue.claimDueEmails(2, at, leaseSeconds);

      assert.equal(first.length, 2);
      assert.equal(second.length, 1);
      assert.equal(new Set([...first, ...second].map((entry) => entry.id)).size, 3);
    });

    test('a claimed email is not claimed again while its lease runs, and returns unchanged when the lease ends', async () => {
      const { message } = buildResetMessage();
      await enqueueCommitted([message]);
      const claimedAt = claimTime();
      const first = await claimOne(claimedAt);

      assert.deepEqual(
        await queue.claimDueEmails(10, secondsAfter(claimedAt, leaseSeconds - 1), leaseSeconds),
        [],
      );
      const second = await claimOne(secondsAfter(claimedAt, leaseSeconds));

      assert.equal(second.id, first.id);
      assert.equal(second.messageId, first.messageId);
      assert.deepEqual(second.message, message);
      assert.equal(second.attempts, 2);
    });

    test('two dispatchers claiming in parallel never get the same email among 50 queued', async () => {
      const messages = Array.from({ length: 50 }, () => buildResetMessage().message);
      for (let i = 0; i < messages.length; i += 10) await enqueueCommitted(messages.slice(i, i + 10));
      const dispatchers = [underTest().createQueue({ secretKey }), underTest().createQueue({ secretKey })];
      const at = claimTime();

      const claimedByDispatcher = await Promise.all(
        dispatchers.map(async (dispatcher) => {
          const claimed: OutboxEntry[] = [];
          for (;;) {
            const batch = await dispatcher.claimDueEmails(3, at, leaseSeconds);
            if (batch.length === 0) return claimed;
            claimed.push(...batch);
          }
        }),
      );

      const claimedIds = claimedByDispatcher.flat().map((entry) => entry.id);
      assert.equal(claimedIds.length, 50, `${claimedIds.length} claims for 50 emails`);
      assert.equal(new Set(claimedIds).size, 50, 'an email was claimed twice');
      assert.deepEqual(
        new Set(claimedByDispatcher.flat().map((entry) => entry.message.to)),
        new Set(messages.map((message) => message.to)),
      );
    });

    test('a sent email is never claimed again, and a sealed payload is cleared', async () => {
      await enqueueCommitted([buildResetMessage().message]);
      const entry = await claimOne(claimTime());

      await queue.markEmailSent(entry.id, new Date());

      assert.deepEqual(await queue.claimDueEmails(10, farFuture, leaseSeconds), []);
      const stored = await findStoredEntry(entry.id);
      assert.equal(stored.status, 'sent');
      if (options.sealsStoredMessages) assert.equal(stored.payload, null);
    });

    test('a retried email is due again exactly at nextAttemptAt, with the same message id and message', async () => {
      const { message } = buildResetMessage();
      await enqueueCommitted([message]);
      const claimedAt = claimTime();
      const first = await claimOne(claimedAt);
      const nextAttemptAt = secondsAfter(claimedAt, 5 * 60);

      await queue.scheduleEmailRetry(first.id, nextAttemptAt, '421 try again later');

      assert.deepEqual(await queue.claimDueEmails(10, secondsAfter(nextAttemptAt, -1), leaseSeconds), []);
      const retried = await claimOne(nextAttemptAt);
      assert.equal(retried.id, first.id);
      assert.equal(retried.messageId, first.messageId);
      assert.deepEqual(retried.message, message);
      assert.equal(retried.attempts, 2);
      assert.equal((await findStoredEntry(first.id)).lastError, '421 try again later');
    });

    test('a late retry for an email already sent does not queue it again', async () => {
      await enqueueCommitted([buildResetMessage().message]);
      const entry = await claimOne(claimTime());
      await queue.markEmailSent(entry.id, new Date());

      await queue.scheduleEmailRetry(entry.id, claimTime(), 'a stale dispatcher failed');

      assert.deepEqual(await queue.claimDueEmails(10, farFuture, leaseSeconds), []);
      assert.equal((await findStoredEntry(entry.id)).status, 'sent');
    });

    test('an abandoned email is never claimed again, and a sealed payload is cleared', async () => {
      await enqueueCommitted([buildResetMessage().message]);
      const entry = await claimOne(claimTime());

      await queue.markEmailAbandoned(entry.id, '550 no such user');

      assert.deepEqual(await queue.claimDueEmails(10, farFuture, leaseSeconds), []);
      const stored = await findStoredEntry(entry.id);
      assert.equal(stored.status, 'abandoned');
      if (options.sealsStoredMessages) assert.equal(stored.payload, null);
      assert.equal(stored.lastError, '550 no such user');
    });

    sealedTest(
      'an email sealed under another SECRET_KEY is abandoned by the claim, neither returned nor blocking the rest',
      async () => {
        const sealedBefore = buildResetMessage().message;
        const sealedNow = buildResetMessage().message;
        await enqueueCommitted(
          [sealedBefore],
          underTest().createTransactor({ secretKey: previousSecretKey, messageIdDomain }),
        );
        await enqueueCommitted([sealedNow]);

        const entries = await queue.claimDueEmails(10, claimTime(), leaseSeconds);

        assert.deepEqual(
          entries.map((entry) => entry.message),
          [sealedNow],
        );
        const abandoned = (await underTest().listStoredEntries()).filter(
          (entry) => entry.status === 'abandoned',
        );
        assert.equal(abandoned.length, 1);
        assert.equal(abandoned[0]?.payload, null);
        for (const entry of entries) await queue.markEmailSent(entry.id, new Date());
        assert.deepEqual(await queue.claimDueEmails(10, farFuture, leaseSeconds), []);
      },
    );

    /** A transactor that counts how often it says mail was committed. */
    function createCountingTransactor(): { transactor: Transactor; calls: () => number } {
      let calls = 0;
      const counting = underTest().createTransactor({
        secretKey,
        messageIdDomain,
        onEmailCommitted: () => (calls += 1),
      });
      return { transactor: counting, calls: () => calls };
    }

    function buildTokenEmail(
      to: string,
      purpose: 'email_verification' | 'password_reset' = 'email_verification',
    ): {
      token: string;
      tokenEmail: TokenEmail;
    } {
      const token = generateToken();
      return {
        token,
        tokenEmail: {
          token: { tokenHash: hashToken(token), purpose, expiresAt: secondsAfter(new Date(), 3600) },
          email: {
            template: 'verify_email',
            to,
            params: { url: `https://auth.example.test/verify-email?token=${token}` },
          },
        },
      };
    }

    /** A committed user at a fresh address starting with `prefix`. */
    async function insertCommittedUser(
      prefix: string,
      passwordHash: string,
    ): Promise<{ user: User; emailKey: string }> {
      const emailKey = `${prefix}-${randomUUID()}@example.test`;
      const user = await transactor.runInTransaction((stores) =>
        stores.users.insertUser({ email: emailKey, emailKey, passwordHash }),
      );
      assert.ok(user);
      return { user, emailKey };
    }

    function consume(token: string, purpose: 'email_verification' | 'password_reset' = 'email_verification') {
      return transactor.runInTransaction((stores) =>
        stores.tokens.consumeToken(hashToken(token), purpose, new Date()),
      );
    }

    test('insertUserWithTokenEmail creates the user, its usable token and its claimable email, and says so once', async () => {
      const told = createCountingTransactor();
      const toldTransactor = told.transactor;
      const address = `User-${randomUUID()}@Example.test`;
      const { token, tokenEmail } = buildTokenEmail(address);

      const user = await toldTransactor.insertUserWithTokenEmail(
        { email: address, emailKey: address.toLowerCase(), passwordHash: 'hash-1' },
        tokenEmail,
      );

      assert.ok(user);
      assert.equal(told.calls(), 1);
      const found = await transactor.runInTransaction((stores) =>
        stores.users.findUserByEmailKey(address.toLowerCase()),
      );
      assert.deepEqual(user, found, 'returned exactly as stored');
      assert.equal(user.email, address);
      assert.equal(user.passwordHash, 'hash-1');
      assert.equal(user.isVerified, false);
      assert.equal(user.isActive, true);
      assert.deepEqual(await consume(token), { userId: user.id, email: null });
      const entry = await claimOne(claimTime());
      assert.deepEqual(entry.message, tokenEmail.email);
      assert.match(entry.messageId, messageIdPattern);
      if (options.sealsStoredMessages) {
        const stored = await findStoredEntry(entry.id);
        assert.ok(!stored.storedText.includes(token), 'the link is sealed here too');
      }
    });

    test('insertUserWithTokenEmail stores the locale of the account and of its queued email', async () => {
      const address = `User-${randomUUID()}@Example.test`;
      const { tokenEmail } = buildTokenEmail(address);
      const germanEmail = { ...tokenEmail, email: { ...tokenEmail.email, locale: 'de' as const } };

      const user = await transactor.insertUserWithTokenEmail(
        { email: address, emailKey: address.toLowerCase(), passwordHash: 'hash-1', locale: 'de' },
        germanEmail,
      );

      assert.equal(user?.locale, 'de');
      const found = await transactor.runInTransaction((stores) =>
        stores.users.findUserByEmailKey(address.toLowerCase()),
      );
      assert.equal(found?.locale, 'de');
      const entry = await claimOne(claimTime());
      assert.equal(
        entry.message.locale,
        'de',
        'the dispatcher renders in the recipient language without a lookup',
      );
    });

    test('insertUserWithTokenEmail on a taken address returns null and writes no token and no email', async () => {
      const told = createCountingTransactor();
      const toldTransactor = told.transactor;
      const emailKey = `taken-${randomUUID()}@example.test`;
      const first = await toldTransactor.insertUserWithTokenEmail(
        { email: emailKey, emailKey, passwordHash: 'hash-first' },
        buildTokenEmail(emailKey).tokenEmail,
      );
      assert.ok(first);
      await queue.markEmailSent((await claimOne(claimTime())).id, new Date());
      const { token, tokenEmail } = buildTokenEmail(emailKey);

      const second = await toldTransactor.insertUserWithTokenEmail(
        { email: emailKey, emailKey, passwordHash: 'hash-second' },
        tokenEmail,
      );

      assert.equal(second, null);
      assert.equal(told.calls(), 1, 'told for the first only');
      assert.deepEqual(await queue.claimDueEmails(10, farFuture, leaseSeconds), []);
      assert.equal((await underTest().listStoredEntries()).length, 1);
      assert.equal(await consume(token), null);
      const kept = await transactor.runInTransaction((stores) => stores.users.findUserByEmailKey(emailKey));
      assert.equal(kept?.passwordHash, 'hash-first');
    });

    test('a transaction that throws leaves every row as it was: no new user, no changed password, no used or ended token, no email', async () => {
      const { user, emailKey } = await insertCommittedUser('kept', 'hash-kept');
      const used = buildTokenEmail(emailKey, 'password_reset');
      const ended = buildTokenEmail(emailKey, 'email_verification');
      await transactor.issueTokenWithEmail(user.id, used.tokenEmail, { replacePrevious: false });
      await transactor.issueTokenWithEmail(user.id, ended.tokenEmail, { replacePrevious: false });
      await underTest().clearOutbox();
      const newKey = `rolled-back-${randomUUID()}@example.test`;

      await assert.rejects(
        transactor.runInTransaction(async (stores) => {
          await stores.users.insertUser({ email: newKey, emailKey: newKey, passwordHash: 'hash-new' });
          await stores.users.setUserPasswordHash(user.id, null);
          assert.ok(await stores.tokens.consumeToken(hashToken(used.token), 'password_reset', new Date()));
          await stores.tokens.invalidateUserTokens(user.id, 'email_verification', new Date());
          await stores.outbox.enqueueEmail(buildResetMessage().message);
          throw new Error('the flow failed at the end');
        }),
        /the flow failed at the end/,
      );

      const kept = await transactor.runInTransaction(async (stores) => ({
        created: await stores.users.findUserByEmailKey(newKey),
        user: await stores.users.findUserById(user.id),
      }));
      assert.equal(kept.created, null);
      assert.deepEqual(kept.user, user);
      assert.deepEqual(await consume(used.token, 'password_reset'), { userId: user.id, email: null });
      assert.deepEqual(await consume(ended.token), { userId: user.id, email: null });
      assert.deepEqual(await underTest().listStoredEntries(), []);
    });

    test('insertUserWithTokenEmail whose token cannot be stored creates no user and queues no email', async () => {
      const emailKey = `first-${randomUUID()}@example.test`;
      const { tokenEmail } = buildTokenEmail(emailKey);
      assert.ok(
        await transactor.insertUserWithTokenEmail(
          { email: emailKey, emailKey, passwordHash: 'hash' },
          tokenEmail,
        ),
      );
      await underTest().clearOutbox();
      const otherKey = `second-${randomUUID()}@example.test`;

      // The same token hash again: the token cannot be stored, so nothing of the statement may land.
      await assert.rejects(
        transactor.insertUserWithTokenEmail(
          { email: otherKey, emailKey: otherKey, passwordHash: 'hash' },
          { ...tokenEmail, email: { ...tokenEmail.email, to: otherKey } },
        ),
      );

      assert.equal(
        await transactor.runInTransaction((stores) => stores.users.findUserByEmailKey(otherKey)),
        null,
      );
      assert.deepEqual(await underTest().listStoredEntries(), []);
    });

    test('issueTokenWithEmail whose token cannot be stored ends no earlier token and queues no email', async () => {
      const { user, emailKey } = await insertCommittedUser('issue-fails', 'hash');
      const earlier = buildTokenEmail(emailKey, 'password_reset');
      await transactor.issueTokenWithEmail(user.id, earlier.tokenEmail, { replacePrevious: false });
      await underTest().clearOutbox();

      await assert.rejects(
        transactor.issueTokenWithEmail(user.id, earlier.tokenEmail, { replacePrevious: true }),
      );

      assert.deepEqual(await underTest().listStoredEntries(), []);
      assert.deepEqual(await consume(earlier.token, 'password_reset'), { userId: user.id, email: null });
    });

    test('30 concurrent insertUserWithTokenEmail of one address give one user and one email, and none throws', async () => {
      const emailKey = `race-${randomUUID()}@example.test`;
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          transactor.insertUserWithTokenEmail(
            { email: emailKey, emailKey, passwordHash: `hash-${i}` },
            buildTokenEmail(emailKey).tokenEmail,
          ),
        ),
      );
      assert.equal(results.filter((user) => user !== null).length, 1);
      assert.equal((await queue.claimDueEmails(50, farFuture, leaseSeconds)).length, 1);
    });

    test('issueTokenWithEmail adds a usable token and a claimable email; replacePrevious ends the older ones', async () => {
      const told = createCountingTransactor();
      const toldTransactor = told.transactor;
      const { user, emailKey } = await insertCommittedUser('issue', 'hash');
      const first = buildTokenEmail(emailKey, 'password_reset');
      const kept = buildTokenEmail(emailKey, 'email_verification');
      await toldTransactor.issueTokenWithEmail(user.id, first.tokenEmail, { replacePrevious: false });
      await toldTransactor.issueTokenWithEmail(user.id, kept.tokenEmail, { replacePrevious: false });
      const second = buildTokenEmail(emailKey, 'password_reset');

      await toldTransactor.issueTokenWithEmail(user.id, second.tokenEmail, { replacePrevious: true });

      assert.equal(told.calls(), 3);
      assert.equal((await queue.claimDueEmails(10, claimTime(), leaseSeconds)).length, 3);
      assert.equal(await consume(first.token, 'password_reset'), null, 'the older reset token was replaced');
      assert.deepEqual(await consume(second.token, 'password_reset'), { userId: user.id, email: null });
      assert.deepEqual(
        await consume(kept.token),
        { userId: user.id, email: null },
        'another purpose is left alone',
      );
      const unreplaced = buildTokenEmail(emailKey, 'password_reset');
      const alongside = buildTokenEmail(emailKey, 'password_reset');
      await transactor.issueTokenWithEmail(user.id, unreplaced.tokenEmail, { replacePrevious: false });
      await transactor.issueTokenWithEmail(user.id, alongside.tokenEmail, { replacePrevious: false });
      assert.deepEqual(await consume(unreplaced.token, 'password_reset'), { userId: user.id, email: null });
    });

    test('onEmailCommitted is told once after a commit that queued mail, when the mail is already claimable', async () => {
      let calls = 0;
      let claimedWhenTold: Promise<OutboxEntry[]> | undefined;
      const toldTransactor = underTest().createTransactor({
        secretKey,
        messageIdDomain,
        onEmailCommitted: () => {
          calls += 1;
          // Another connection sees the mail only once it is committed.
          claimedWhenTold ??= queue.claimDueEmails(10, claimTime(), leaseSeconds);
        },
      });
      const messages = [buildResetMessage().message, buildResetMessage().message];

      await enqueueCommitted(messages, toldTransactor);

      assert.equal(calls, 1);
      assert.ok(claimedWhenTold);
      assert.deepEqual(
        new Set((await claimedWhenTold).map((entry) => entry.message.to)),
        new Set(messages.map((message) => message.to)),
      );
    });

    test('onEmailCommitted is not told after a rollback, nor after a commit that queued no mail', async () => {
      let calls = 0;
      const toldTransactor = underTest().createTransactor({
        secretKey,
        messageIdDomain,
        onEmailCommitted: () => {
          calls += 1;
        },
      });

      await assert.rejects(
        toldTransactor.runInTransaction(async (stores) => {
          await stores.outbox.enqueueEmail(buildResetMessage().message);
          throw new Error('rolled back');
        }),
      );
      await toldTransactor.runInTransaction(async (stores) => stores.users.findUserById(randomUUID()));

      assert.equal(calls, 0);
    });

    test('an email is claimable by a claim at the clock time right after its commit, as the woken dispatcher makes it', async () => {
      // Twenty rounds: a miss that happens only within the commit's millisecond shows up reliably.
      for (let round = 0; round < 20; round++) {
        let claimedWhenTold: Promise<OutboxEntry[]> | undefined;
        const wakingTransactor = underTest().createTransactor({
          secretKey,
          messageIdDomain,
          onEmailCommitted: () => {
            claimedWhenTold = queue.claimDueEmails(10, new Date(), leaseSeconds);
          },
        });
        const { message } = buildResetMessage();

        await enqueueCommitted([message], wakingTransactor);

        assert.ok(claimedWhenTold);
        const claimed = await claimedWhenTold;
        assert.deepEqual(
          claimed.map((entry) => entry.message),
          [message],
          `round ${round}: the woken claim missed the email just committed`,
        );
      }
    });
  });
}
