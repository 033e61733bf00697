import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  commonPasswordShortestEntry,
  createCommonPasswordList,
  loadCommonPasswords,
  type CommonPasswordList,
} from '../../src/security/common-passwords.ts';
import {
  findPasswordProblem,
  lowestPasswordMinimumLength,
  passwordMaximumLength,
  type PasswordPolicy,
} from '../../src/security/password-policy.ts';

const email = 'alice.smith+news@example.com';

describe('password policy (NIST 800-63B-4)', () => {
  let shipped: CommonPasswordList;
  let policy: PasswordPolicy;
  before(async () => {
    shipped = await loadCommonPasswords();
    policy = { minimumLength: 15, commonPasswords: shipped };
  });
  const ruleOf = (password: string, address = email, minimumLength = 15): string | null =>
    findPasswordProblem({ ...policy, minimumLength }, password, address)?.rule ?? null;

  test('the shipped list holds at least 100,000 common or breached passwords, loaded once', async () => {
    assert.ok(shipped.size >= 100_000, `only ${shipped.size} entries`);
    // Entries shorter than the lowest configurable minimum are dropped: none may be dropped that could match.
    assert.ok(commonPasswordShortestEntry <= lowestPasswordMinimumLength);
    assert.equal(await loadCommonPasswords(), shipped, 'a second load reuses the first');
    for (const entry of ['1qaz2wsx3edc4rfv', 'passwordpassword', '123456789qwerty', 'qwertyuiop12345']) {
      assert.ok(shipped.has(entry), entry);
    }
  });

  test('every entry of a list is found and nothing else is, whatever the order, case or repeats', () => {
    const entries = [
      'zebra crossing!',
      'Ａｂｃｄｅｆｇｈ',
      'aaaaaaaa',
      'mmmmmmmmmm',
      'zebra crossing!',
      'ÄÖÜäöüßé',
      'short',
    ];
    const list = createCommonPasswordList(entries);
    assert.equal(list.size, 5, 'repeats kept once, entries under 8 characters dropped');
    for (const entry of ['ZEBRA CROSSING!', 'abcdefgh', 'AAAAAAAA', 'mmmmmmmmmm', 'äöüäöüßé']) {
      assert.ok(list.has(entry), entry);
    }
    for (const other of ['', 'aaaaaaa', 'aaaaaaaaa', 'mmmmmmmmm', 'zebra crossing', '~~~~~~~~', 'short']) {
      assert.equal(list.has(other), false, other);
    }
    assert.equal(createCommonPasswordList([]).has('anything at all'), false);
    // The shipped list, both ends of its order included.
    for (const entry of ['00000000', 'zzzzzzzz', 'iloveyou', 'password1'])
      assert.ok(shipped.has(entry), entry);
    assert.equal(shipped.has('a phrase nobody has ever used before 4812'), false);
  });

  test('the minimum is the configured one, counted in code points after NFKC', () => {
    assert.equal(ruleOf('fourteen chars'), 'password_too_short');
    assert.equal(ruleOf('fifteen chars!!'), null);
    assert.equal(ruleOf('eight ok', email, 8), null);
    // Five astral characters are ten UTF-16 units but five code points.
    assert.equal(ruleOf('🐢🐇🦊🦉🐝 and more', email, 15), 'password_too_short');
    // Full-width letters normalise to ASCII: 15 code points either way.
    assert.equal(ruleOf('ｔｕｒｔｌｅ ｒａｂｂｉｔ ｆｏｘ'), null);
  });

  test('at most 128 characters, never truncated; a megabyte is refused at once', () => {
    assert.equal(ruleOf('a'.repeat(10) + ' tortoise ' + 'b'.repeat(108)), null);
    assert.equal(ruleOf('correct horse ' + 'x'.repeat(passwordMaximumLength)), 'password_too_long');
    const started = performance.now();
    assert.equal(ruleOf('x'.repeat(1_000_000)), 'password_too_long');
    assert.ok(performance.now() - started < 50, 'no normalisation of a huge input');
  });

  test('no composition rules: lower-case words and spaces are fine when long and uncommon', () => {
    for (const password of [
      'tortoise under the lamp',
      'виноград и лимон всегда',
      '山の上の小さな家に住んでいる猫',
    ]) {
      assert.equal(ruleOf(password), null, password);
    }
  });

  test('a common password is refused whatever its case or Unicode form', () => {
    for (const password of [
      '1qaz2wsx3edc4rfv',
      '1QAZ2WSX3EDC4RFV',
      '１ｑａｚ２ｗｓｘ３ｅｄｃ４ｒｆｖ',
      'PasswordPassword',
    ]) {
      assert.equal(ruleOf(password), 'password_too_common', password);
    }
  });

  test('one short unit repeated, or a straight run of characters, counts as common', () => {
    for (const password of [
      'aaaaaaaaaaaaaaa',
      'abababababababab',
      'x1y2x1y2x1y2x1y2',
      'abcdefghijklmnop',
      'zyxwvutsrqponmlk',
    ]) {
      assert.equal(ruleOf(password), 'password_too_common', password);
    }
    assert.equal(ruleOf('abcde abcde abcde'), null, 'a five-character unit is not trivial');
  });

  test('a password containing the address local part is refused, tags and dots included', () => {
    assert.equal(ruleOf('my name is Alice.Smith!'), 'password_contains_email');
    assert.equal(ruleOf('alicesmith rides a bike'), 'password_contains_email');
    assert.equal(ruleOf('ALICE.SMITH+NEWS forever'), 'password_contains_email');
    assert.equal(ruleOf('tortoise under the lamp', 'tortoise@example.com'), 'password_contains_email');
    // A local part shorter than four characters is too short to mean anything.
    assert.equal(ruleOf('bob rides a big red bicycle', 'bob@example.com'), null);
    assert.equal(ruleOf('tortoise under the lamp', ''), null, 'no address, no address rule');
  });

  test('the rules are checked in a fixed order: length first, then the address, then the list', () => {
    const list = createCommonPasswordList(['alicesmith2024!!']);
    const local = { minimumLength: 15, commonPasswords: list };
    assert.equal(findPasswordProblem(local, 'alicesmith2024!!', email)?.rule, 'password_contains_email');
    assert.equal(
      findPasswordProblem(local, 'ALICESMITH2024!!', 'bob@example.com')?.rule,
      'password_too_common',
    );
    assert.equal(findPasswordProblem(local, 'alice', email)?.rule, 'password_too_short');
    const problem = findPasswordProblem(local, 'short', email);
    assert.equal(problem?.message, 'Password must be at least 15 characters');
  });
});
