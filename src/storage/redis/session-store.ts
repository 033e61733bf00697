import { DependencyUnavailableError } from '../../flows/errors.ts';
import type { Session } from '../../flows/model.ts';
import type { SessionStore } from '../../flows/ports.ts';
import { withinRedisDeadline, type RedisClient } from './client.ts';

/*
 * Layout (every key also carries the client's keyPrefix):
 *   session:<tokenHash>        the session as JSON, expiring with the session itself
 *   user-sessions:<userId>     sorted set of that user's token hashes, scored by expiry (epoch ms), living as long
 *                              as the user's longest session
 * The index exists only so that deleteUserSessions can find every session of a user without a SCAN. Scoring by
 * expiry lets a login drop the expired members in O(log n): the earlier plain set was pruned by checking every
 * member, which made each login of a user with a thousand live sessions cost Redis a millisecond or more.
 *
 * Every command and script names exactly one key, so the layout works unchanged on a Redis Cluster, where a
 * script may only touch keys of one slot: a session lives in the slot of its token hash (who-am-I is one GET,
 * knowing only the token), the index in the slot of its user. What one script used to do across both is now a
 * sequence whose order keeps the one promise that matters (docs/decisions/0015-redis-cluster-and-sentinel.md):
 *   - createSession stores the session, then indexes it;
 *   - deleteUserSessions reads the index, deletes the sessions it lists, then removes those members.
 * So a session whose createSession returned before a revocation began is in the index that revocation reads,
 * and is gone when the revocation returns. A revocation that fails half-way leaves the index as it was: trying
 * again finds every session again. A createSession that fails between its steps leaves a session nobody was
 * given the token of, and it expires.
 */

const sessionKeyPrefix = 'session:';
const userSessionsKeyPrefix = 'user-sessions:';

/**
 * KEYS: user-sessions key. ARGV: token hash, expiry (epoch ms), now (epoch ms). Adds the session to its user's
 * index, drops the members that expired by now and lets the index live as long as its longest session.
 * Answers 0 and changes nothing when the index is still the plain set of an earlier version (see
 * convertIndexLua), 1 otherwise.
 */
const indexSessionLua = `
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  return 0
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
`;

/**
 * KEYS: user-sessions key. ARGV: token hash, expiry (epoch ms), token hash, expiry, … of the sessions of the
 * plain set (of an earlier version) that still exist. Turns the plain set into the sorted set with those
 * members, unless another call did so meanwhile.
 */
const convertIndexLua = `
if redis.call('TYPE', KEYS[1]).ok ~= 'set' then
  return 0
end
redis.call('DEL', KEYS[1])
for index = 1, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[index + 1], ARGV[index])
end
return 1
`;

/** KEYS: user-sessions key. The token hashes it lists, whether a sorted set or the plain set of an earlier version. */
const readIndexLua = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'zset' then
  return redis.call('ZRANGE', KEYS[1], 0, -1)
elseif kind == 'set' then
  return redis.call('SMEMBERS', KEYS[1])
end
return {}
`;

/**
 * KEYS: user-sessions key. ARGV: the token hashes to remove. Members added since they were read stay; an index
 * left empty is deleted by Redis itself.
 */
const removeFromIndexLua = `
local kind = redis.call('TYPE', KEYS[1]).ok
for _, tokenHash in ipairs(ARGV) do
  if kind == 'zset' then
    redis.call('ZREM', KEYS[1], tokenHash)
  elseif kind == 'set' then
    redis.call('SREM', KEYS[1], tokenHash)
  end
end
return 1
`;

interface SessionScripts {
  latchkeyIndexSession(
    userSessionsKey: string,
    tokenHash: string,
    expiresAtEpochMilliseconds: number,
    nowEpochMilliseconds: number,
  ): Promise<number>;
  latchkeyConvertSessionIndex(userSessionsKey: string, ...tokenHashesAndExpiries: string[]): Promise<number>;
  latchkeyReadSessionIndex(userSessionsKey: string): Promise<string[]>;
  latchkeyRemoveFromSessionIndex(userSessionsKey: string, ...tokenHashes: string[]): Promise<number>;
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
  /** Absent in sessions stored before it was kept: unknown, not "none". */
  refreshFamilyId?: string | null;
}

/**
 * Sessions in Redis: one Redis, a primary under Sentinel, or a Redis Cluster. Expiry is Redis's TTL (wall clock)
 * plus a check against the caller's `now`.
 */
export class RedisSessionStore implements SessionStore {
  readonly #redis: RedisClient & SessionScripts;

  constructor(redis: RedisClient) {
    redis.defineCommand('latchkeyIndexSession', { numberOfKeys: 1, lua: indexSessionLua });
    redis.defineCommand('latchkeyConvertSessionIndex', { numberOfKeys: 1, lua: convertIndexLua });
    redis.defineCommand('latchkeyReadSessionIndex', { numberOfKeys: 1, lua: readIndexLua });
    redis.defineCommand('latchkeyRemoveFromSessionIndex', { numberOfKeys: 1, lua: removeFromIndexLua });
    this.#redis = redis as RedisClient & SessionScripts;
  }

  async createSession(session: Session): Promise<void> {
    const now = Date.now();
    const lifetimeSeconds = Math.ceil((session.expiresAt.getTime() - now) / 1000);
    // Already expired: storing it could only let it be found.
    if (lifetimeSeconds <= 0) return;
    const json = JSON.stringify(storedSessionOf(session));
    // The session first, its index member second (see the layout above): awaited, not sent together, since on a
    // cluster the two keys live on different nodes and nothing else would order them.
    await callRedis(() => this.#redis.set(sessionKey(session.tokenHash), json, 'EX', lifetimeSeconds));
    const index = userSessionsKey(session.userId);
    const indexed = await callRedis(() =>
      this.#redis.latchkeyIndexSession(index, session.tokenHash, session.expiresAt.getTime(), now),
    );
    if (indexed === 1) return;
    await this.#convertEarlierIndex(index, now);
    await callRedis(() =>
      this.#redis.latchkeyIndexSession(index, session.tokenHash, session.expiresAt.getTime(), now),
    );
  }

  /** An index left as a plain set by an earlier version becomes the sorted set, its live sessions kept. */
  async #convertEarlierIndex(index: string, now: number): Promise<void> {
    const members = await callRedis(() => this.#redis.latchkeyReadSessionIndex(index));
    const remaining = await callRedis(() =>
      Promise.all(members.map((tokenHash) => this.#redis.pttl(sessionKey(tokenHash)))),
    );
    const live = members.flatMap((tokenHash, position) => {
      const remainingMilliseconds = remaining[position] ?? -2;
      return remainingMilliseconds > 0 ? [tokenHash, String(now + remainingMilliseconds)] : [];
    });
    await callRedis(() => this.#redis.latchkeyConvertSessionIndex(index, ...live));
  }

  async findSession(tokenHash: string, now: Date): Promise<Session | null> {
    const json = await callRedis(() => this.#redis.get(sessionKey(tokenHash)));
    if (json === null) return null;
    const session = parseStoredSession(tokenHash, json);
    // Redis's TTL runs on the wall clock and rounds up to a second; the caller's clock has the last word.
    return session.expiresAt.getTime() > now.getTime() ? session : null;
  }

  async listUserSessions(userId: string, now: Date): Promise<Session[]> {
    const members = await callRedis(() => this.#redis.latchkeyReadSessionIndex(userSessionsKey(userId)));
    // One GET each (a cluster spreads them over its nodes); auto-pipelining sends them together.
    const found = await callRedis(() =>
      Promise.all(members.map((tokenHash) => this.#redis.get(sessionKey(tokenHash)))),
    );
    const sessions: Session[] = [];
    members.forEach((tokenHash, position) => {
      const json = found[position];
      // A member whose session is gone (ended or expired) is skipped.
      if (json === null || json === undefined) return;
      const session = parseStoredSession(tokenHash, json);
      if (session.expiresAt.getTime() > now.getTime()) sessions.push(session);
    });
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
    await this.#deleteIndexedSessions(userId, undefined);
  }

  async deleteOtherUserSessions(userId: string, keptTokenHash: string): Promise<void> {
    await this.#deleteIndexedSessions(userId, keptTokenHash);
  }

  /**
   * Reads the index, deletes every session it lists but the kept one, and only then removes those members: the
   * index forgets a session only once it is gone (see the layout above).
   */
  async #deleteIndexedSessions(userId: string, keptTokenHash: string | undefined): Promise<void> {
    const index = userSessionsKey(userId);
    const members = await callRedis(() => this.#redis.latchkeyReadSessionIndex(index));
    const ended = members.filter((tokenHash) => tokenHash !== keptTokenHash);
    if (ended.length === 0) return;
    await callRedis(() => Promise.all(ended.map((tokenHash) => this.#redis.del(sessionKey(tokenHash)))));
    await callRedis(() => this.#redis.latchkeyRemoveFromSessionIndex(index, ...ended));
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
    ...(session.refreshFamilyId !== undefined && { refreshFamilyId: session.refreshFamilyId }),
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
    ...((typeof stored.refreshFamilyId === 'string' || stored.refreshFamilyId === null) && {
      refreshFamilyId: stored.refreshFamilyId,
    }),
  };
}
