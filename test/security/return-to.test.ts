import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveReturnTo } from '../../src/security/return-to.ts';

const allowed = ['https://app.example.com', 'http://localhost:3000'];

describe('return_to: only an exact listed origin is followed', () => {
  const followed: readonly [string, string][] = [
    ['https://app.example.com', 'https://app.example.com/'],
    ['https://app.example.com/', 'https://app.example.com/'],
    ['https://app.example.com/dashboard?tab=1#top', 'https://app.example.com/dashboard?tab=1#top'],
    ['https://APP.example.com/x', 'https://app.example.com/x'],
    ['https://app.example.com:443/x', 'https://app.example.com/x'],
    ['http://localhost:3000/after', 'http://localhost:3000/after'],
  ];
  for (const [raw, expected] of followed) {
    test(`follows ${raw}`, () => assert.equal(resolveReturnTo(raw, allowed), expected));
  }

  const refused: readonly [string, string][] = [
    ['', 'empty'],
    ['//evil.example', 'scheme-relative'],
    ['///evil.example', 'three slashes'],
    ['/\\evil.example', 'slash backslash'],
    ['\\\\evil.example', 'two backslashes'],
    ['https:\\\\app.example.com', 'backslashes after the scheme'],
    ['https://app.example.com\\@evil.example', 'backslash before userinfo'],
    ['/dashboard', 'a path without origin'],
    ['https://app.example.com.evil', 'a look-alike host'],
    ['https://app.example.com.evil/x', 'a look-alike host with a path'],
    ['https://evil.example/https://app.example.com', 'the origin in the path'],
    ['https://evil.example?https://app.example.com', 'the origin in the query'],
    ['https://app.example.com@evil.example', 'the origin as userinfo'],
    ['https://user:pw@app.example.com/', 'userinfo on the right host'],
    ['http://app.example.com/', 'the right host over http'],
    ['https://app.example.com:8443/', 'another port'],
    ['https://sub.app.example.com/', 'a subdomain'],
    ['javascript:alert(1)', 'javascript:'],
    ['JavaScript://app.example.com/%0aalert(1)', 'javascript: with an origin-like body'],
    ['data:text/html,hi', 'data:'],
    ['ftp://app.example.com/', 'another scheme'],
    [' https://app.example.com/', 'leading space'],
    ['https://app.example.com/\n', 'a newline'],
    ['https://app.exa\tmple.com/', 'a tab inside the host'],
    [`https://app.example.com/${'a'.repeat(2100)}`, 'too long'],
  ];
  for (const [raw, why] of refused) {
    test(`refuses ${why}: ${JSON.stringify(raw.slice(0, 60))}`, () =>
      assert.equal(resolveReturnTo(raw, allowed), null));
  }

  test('refuses everything when no origin is listed', () => {
    assert.equal(resolveReturnTo('https://app.example.com/', []), null);
    assert.equal(resolveReturnTo(undefined, allowed), null);
  });
});
