import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEmailAddress } from '../../src/security/email-address.ts';

test('addresses keep their spelling for delivery and match by a case- and Unicode-folded key', () => {
  assert.deepEqual(parseEmailAddress('  Alice.Smith@Example.COM '), {
    address: 'Alice.Smith@Example.COM',
    key: 'alice.smith@example.com',
  });
  // Full-width letters are the same address after NFKC.
  assert.equal(parseEmailAddress('ａｌｉｃｅ@example.com')?.key, 'alice@example.com');
});

test('anything that is not one plain address is refused', () => {
  for (const input of [
    '',
    'alice',
    'alice@',
    '@example.com',
    'alice@example',
    'alice@@example.com',
    'Alice <alice@example.com>',
    'alice@example.com\r\nBcc: mallory@example.com',
    'alice\u0000@example.com',
    'al ice@example.com',
    'alice@exa..mple.com',
    `${'a'.repeat(65)}@example.com`,
    `alice@${'a'.repeat(250)}.com`,
    'alice\u200b@example.com',
  ]) {
    assert.equal(parseEmailAddress(input), null, JSON.stringify(input));
  }
});
