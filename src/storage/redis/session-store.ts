import type { Redis } from 'ioredis';
import { DependencyUnavailableError } from '../../flows/errors.ts';
import type { Session } from '../../flows/model.ts';
import type { SessionStore } from '../../flows/ports.ts';
import { withinRedisDeadline } from './client.ts';

/*
 * Layout (every key also carries the client's keyPrefix):
 *   session:<tokenHash>        the session as JSON, expiring with the session itself
 *   user-sessions:<userId>     sorted set of that user's token hashes, scored by expiry (epoch ms), living as long
 *                              as the user's longest session
 * The index exists only so that deleteUserSessions can find every session of a user without a SCAN. Scoring by
 * expiry lets a login drop the expired members in O(log n): the earlier plain set was pruned by checking every
 * member, which made each login of a user with a thousand live sessions cost Redis a millisecond or more.
 */

const sessionKeyPrefix = 'session:';
const userSessionsKeyPrefix = 'user-sessions:';

// Computed keys inside the scripts (session keys built from set members) do not get ioredis's keyPrefix,
// so the scripts receive the fully prefixed session key prefix as an argument.

/**
 * KEYS: session key, user-sessions key. ARGV: session JSON, lifetime in seconds, prefixed session key prefix,
 * token hash, expiry (epoch ms), now (epoch ms). Atomic so that a concurrent deleteUserSessions sees either both
 * the session and its index member or neither: a session can never outlive its user's revocation. Expired
 * members are dropped here, so the index of a user who keeps logging in holds at most one lifetime of logins.
 * An index left as a plain set by an earlier version is converted first, its live sessions kept.
 */
const createSessionLua = `
if redis.call('TYPE', KEYS[2]).ok == 'set' then
  local members = redis.call('SMEMBERS', KEYS[2])
  redis.call('DEL', KEYS[2])
  for _, tokenHash in ipairs(members) do
    local remaining = redis.call('PTTL', ARGV[3] .. tokenHash)
    if remaining > 0 then
      redis.call('ZADD', KEYS[2], tonumber(ARGV[6]) + remaining, tokenHash)
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1
`;

/** Lua: `members` of the index KEYS[1] and its `kind`, a sorted set or the plain set of an earlier version. */
const readIndexLua = `
local kind = redis.call('TYPE', KEYS[1]).ok
local members = {}
if kind == 'zset' then
  members = redis.call('ZRANGE', KEYS[1], 0, -1)
elseif kind == 'set' then
  members = redis.call('SMEMBERS', KEYS[1])
end
`;

/**
 * KEYS: user-sessions key. ARGV: prefixed session key prefix, the token hash of a session to keep ('' for none).
 * Atomic: no other session of the user survives, whether the index is a sorted set or still the plain set of
 * an earlier version. Without a kept session the index goes too; with one, it keeps that member alone.
 */
const deleteUserSessionsLua = `
${readIndexLua}for _, tokenHash in ipairs(members) do
  if tokenHash ~= ARGV[2] then
    redis.call('DEL', ARGV[1] .. tokenHash)
    if kind == 'zset' then
      redis.call('ZREM', KEYS[1], tokenHash)
    else
      redis.call('SREM', KEYS[1], tokenHash)
    end
  end
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
end
return 1
`;

/**
 * KEYS: user-sessions key. ARGV: prefixed session key prefix. Every indexed session that still exists, as
 * token hash, JSON, token hash, JSON, …; members whose session is gone (ended or expired) are skipped.
 */
const listUserSessionsLua = `
${readIndexLua}local found = {}
for _, tokenHash in ipairs(members) do
  local json = redis.call('GET', ARGV[1] .. tokenHash)
  if json then
    table.insert(found, tokenHash)
    table.insert(found, json)
  end
end
return found
`;

interface SessionScripts {
  latchkeyCreateSession(
    sessionKey: string,
    userSessionsKey: string,
    sessionJson: string,
    lifetimeSeconds: number,
    prefixedSessionKeyPrefix: string,
    tokenHash: string,
    expiresAtEpochMilliseconds: number,
    nowEpochMilliseconds: number,
  ): Promise<unknown>;
  latchkeyListUserSessions(userSessionsKey: string, prefixedSessionKeyPrefix: string): Promise<string[]>;
  latchkeyDeleteUserSessions(
    userSessionsKey: string,
    prefixedSessionKeyPrefix: string,
    keptTokenHash: string,
  ): Promise<unknown>;
}

/**
 * What is stored under session:<tokenHash>; the hash itself is the key, so it is not repeated. The activity
 * fields are absent in sessions stored by a version that did not keep them.
 */
interface StoredSession {
  userId: string;
  email: string;
  isActive: boolean;
  isVerified: boolean;
  createdAt: string;
  expiresAt: string;
  lastSeenAt?: string;
  ip?: string | null;
  userAgent?: string | null;
}

/** Sessions in Redis. Expiry is Redis's TTL (wall clock) plus a check against the caller's `now`. */
export class RedisSessionStore implements SessionStore {
  readonly #redis: Redis & SessionScripts;
  readonly #prefixedSessionKeyPrefix: string;

  constructor(redis: Redis) {
    redis.defineCommand('latchkeyCreateSession', { numberOfKeys: 2, lua: createSessionLua });
    redis.defineCommand('latchkeyDeleteUserSessions', { numberOfKeys: 1, lua: deleteUserSessionsLua });
    redis.defineCommand('latchkeyListUserSessions', { numberOfKeys: 1, lua: listUserSessionsLua });
    this.#redis = redis as Redis & SessionScripts;
    this.#prefixedSessionKeyPrefix = `${redis.options.keyPrefix ?? ''}${sessionKeyPrefix}`;
  }

  async createSession(session: Session): Promise<void> {
    const now = Date.now();
    const lifetimeSeconds = Math.ceil((session.expiresAt.getTime() - now) / 1000);
    // Already expired: storing it could only let it be found.
    if (lifetimeSeconds <= 0) return;
    await callRedis(() =>
      this.#redis.latchkeyCreateSession(
        sessionKey(session.tokenHash),
        userSessionsKey(session.userId),
        JSON.stringify(storedSessionOf(session)),
        lifetimeSeconds,
        this.#prefixedSessionKeyPrefix,
        session.tokenHash,
        session.expiresAt.getTime(),
        now,
      ),
    );
  }

  async findSession(tokenHash: string, now: Date): Promise<Session | null> {
    const json = await callRedis(() => this.#redis.get(sessionKey(tokenHash)));
    if (json === null) return null;
    const session = parseStoredSession(tokenHash, json);
    // Redis's TTL runs on the wall clock and rounds up to a second; the caller's clock has the last word.
    return session.expiresAt.getTime() > now.getTime() ? session : null;
  }

  async listUserSessions(userId: string, now: Date): Promise<Session[]> {
    const found = await callRedis(() =>
      this.#redis.latchkeyListUserSessions(userSessionsKey(userId), this.#prefixedSessionKeyPrefix),
    );
    const sessions: Session[] = [];
    for (let index = 0; index + 1 < found.length; index += 2) {
      const session = parseStoredSession(found[index] ?? '', found[index + 1] ?? '');
      if (session.expiresAt.getTime() > now.getTime()) sessions.push(session);
    }
    return sessions;
  }

  async touchSession(session: Session, lastSeenAt: Date): Promise<void> {
    // XX: a session ended meanwhile is not brought back; KEEPTTL: it still ends when it was due to.
    const json = JSON.stringify(storedSessionOf({ ...session, lastSeenAt }));
    await callRedis(() => this.#redis.set(sessionKey(session.tokenHash), json, 'KEEPTTL', 'XX'));
  }

  async deleteSession(tokenHash: string): Promise<void> {
    // The index member stays behind until its expiry; it is harmless and dropped at a later createSession.
    await callRedis(() => this.#redis.del(sessionKey(tokenHash)));
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await callRedis(() =>
      this.#redis.latchkeyDeleteUserSessions(userSessionsKey(userId), this.#prefixedSessionKeyPrefix, ''),
    );
  }

  async deleteOtherUserSessions(userId: string, keptTokenHash: string): Promise<void> {
    await callRedis(() =>
      this.#redis.latchkeyDeleteUserSessions(
        userSessionsKey(userId),
        this.#prefixedSessionKeyPrefix,
        keptTokenHash,
      ),
    );
  }
}

function sessionKey(tokenHash: string): string {
  return `${sessionKeyPrefix}${tokenHash}`;
}

function userSessionsKey(userId: string): string {
  return `${userSessionsKeyPrefix}${userId}`;
}

async function callRedis<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await withinRedisDeadline(command);
  } catch (error) {
    throw new DependencyUnavailableError('redis', error);
  }
}

function storedSessionOf(session: Session): StoredSession {
  return {
    userId: session.userId,
    email: session.email,
    isActive: session.isActive,
    isVerified: session.isVerified,
    createdAt: session.createdAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    ip: session.ip,
    userAgent: session.userAgent,
  };
}

function parseStoredSession(tokenHash: string, json: string): Session {
  const stored = JSON.parse(json) as Partial<StoredSession>;
  if (
    typeof stored.userId !== 'string' ||
    typeof stored.email !== 'string' ||
    typeof stored.isActive !== 'boolean' ||
    typeof stored.isVerified !== 'boolean' ||
    typeof stored.createdAt !== 'string' ||
    typeof stored.expiresAt !== 'string'
  ) {
    throw new Error(`malformed session record under ${sessionKey(tokenHash.slice(0, 8))}…`);
  }
  return {
    tokenHash,
    userId: stored.userId,
    email: stored.email,
    isActive: stored.isActive,
    isVerified: stored.isVerified,
    createdAt: new Date(stored.createdAt),
    expiresAt: new Date(stored.expiresAt),
    lastSeenAt: new Date(typeof stored.lastSeenAt === 'string' ? stored.lastSeenAt : stored.createdAt),
    ip: typeof stored.ip === 'string' ? stored.ip : null,
    userAgent: typeof stored.userAgent === 'string' ? stored.userAgent : null,
  };
}
