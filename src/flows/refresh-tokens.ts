import { budgetKey, spendAttempt } from './attempt-budgets.ts';
import { secondsFrom, type AccountContext } from './context.ts';
import { FlowError } from './errors.ts';
import { buildSession } from './login.ts';
import type { RefreshFamily, User } from './model.ts';
import type { RefreshTokenOwner } from './ports.ts';
import { recordAuditEvent } from './audit.ts';
import { endRefreshFamily, unknownClient, type SessionClient } from './sessions.ts';
import {
  deriveToken,
  equalInConstantTime,
  generateToken,
  hashToken,
  isWellFormedToken,
} from '../security/tokens.ts';

/** What a refresh hands out: a fresh session (as /login's) and the family's next refresh token. */
export interface RefreshResult {
  readonly token: string;
  readonly refreshToken: string;
  readonly expiresInSeconds: number;
  readonly userId: string;
}

/** Told when a refresh token was used again outside its grace: its family has just been ended. */
export interface RefreshReuseObserver {
  onReuseDetected(event: { readonly userId: string; readonly familyId: string }): void;
}

/** Starts a refresh family for a login's session and returns its first refresh token. */
export async function startRefreshFamily(
  context: Pick<AccountContext, 'refreshFamilies' | 'refreshTokens' | 'clock'>,
  userId: string,
  sessionTokenHash: string,
  /** The id the login's session already records (Session.refreshFamilyId). */
  familyId: string,
): Promise<string> {
  const token = generateToken();
  const now = context.clock.now();
  await context.refreshFamilies.createFamily({
    family: {
      id: familyId,
      userId,
      createdAt: now,
      expiresAt: secondsFrom(now, context.refreshTokens.absoluteLifetimeSeconds),
      lastUsedAt: now,
      generation: 0,
      rotatedAt: now,
      revokedAt: null,
    },
    tokenHash: hashToken(token),
    sessionTokenHash,
  });
  return token;
}

/**
 * The successor pair of a family's token: computed from the token itself under a key derived from
 * SECRET_KEY, so every racing request with the same token gets the same pair, and no table holds a token.
 */
function deriveSuccessorPair(
  context: Pick<AccountContext, 'refreshTokens'>,
  familyId: string,
  generation: number,
  token: string,
): { readonly sessionToken: string; readonly refreshToken: string } {
  const key = context.refreshTokens.derivationKey;
  const input = `${familyId}:${generation}:${token}`;
  return {
    sessionToken: deriveToken(key, `session:${input}`),
    refreshToken: deriveToken(key, `refresh:${input}`),
  };
}

/**
 * Trades a refresh token for a fresh session and the family's next refresh token (POST /token).
 *
 * - The current token rotates: exactly one of any number of racing requests moves the family on; all of
 *   them answer the same pair.
 * - The predecessor of the current token, within REFRESH_REUSE_GRACE_SECONDS of the rotation, answers the
 *   current pair again (tabs racing, a lost answer retried).
 * - Any other token of the family (an older one, or the predecessor after the grace) is a replay: someone
 *   holds a copy. The family ends with every session it minted, and `observer` is told.
 * - An unknown, malformed, expired or revoked token, or one of an account that is gone or disabled:
 *   `invalid_grant`, and nothing changes.
 */
export async function refreshSession(
  context: AccountContext,
  refreshToken: string,
  client: SessionClient = unknownClient,
  observer?: RefreshReuseObserver,
): Promise<RefreshResult> {
  const invalid = (): FlowError => new FlowError('invalid_grant');
  if (!isWellFormedToken(refreshToken)) throw invalid();
  const tokenHash = hashToken(refreshToken);
  const owner = await context.refreshFamilies.findTokenOwner(tokenHash);
  if (owner === null) throw invalid();
  const attempt = await spendAttempt(
    context.budgets.refreshesPerFamily,
    budgetKey(`refresh:${owner.family.id}`),
  );
  if (!attempt.allowed) {
    throw new FlowError('rate_limited', 'Too many refreshes of this refresh token, try again later', {
      retryAfterSeconds: attempt.retryAfterSeconds,
    });
  }
  const now = context.clock.now();
  if (!isFamilyLive(context, owner.family, now)) throw invalid();
  const user = await context.users.findUserById(owner.family.userId);
  if (user === null || user.deletedAt !== null || !user.isActive) {
    await endRefreshFamily(context, owner.family.id);
    throw invalid();
  }
  const pair = deriveSuccessorPair(context, owner.family.id, owner.generation + 1, refreshToken);
  const result: RefreshResult = {
    token: pair.sessionToken,
    refreshToken: pair.refreshToken,
    expiresInSeconds: context.sessionLifetimeSeconds,
    userId: user.id,
  };
  if (owner.generation === owner.family.generation) {
    if (await rotate(context, owner, user, pair, client)) return result;
    // Another request with this token rotated first: answer as its racing duplicate, below.
    const after = await context.refreshFamilies.findTokenOwner(tokenHash);
    if (after === null || !isFamilyLive(context, after.family, now)) {
      await context.sessions.deleteSession(hashToken(pair.sessionToken));
      throw invalid();
    }
    return answerPredecessor(context, after, pair, result, observer);
  }
  return answerPredecessor(context, owner, pair, result, observer);
}

function isFamilyLive(
  context: Pick<AccountContext, 'refreshTokens'>,
  family: RefreshFamily,
  now: Date,
): boolean {
  const idleEnd = secondsFrom(family.lastUsedAt, context.refreshTokens.idleLifetimeSeconds);
  return (
    family.revokedAt === null &&
    now.getTime() < family.expiresAt.getTime() &&
    now.getTime() < idleEnd.getTime()
  );
}

/**
 * Stores the successor's session, then moves the family on. The session comes first, so a racing duplicate
 * that finds the family moved on can answer the pair at once. After the rotation the family is read again:
 * if it was ended meanwhile, the session this refresh stored ends here, so an ending never misses a pair
 * minted by a refresh in flight.
 */
async function rotate(
  context: AccountContext,
  owner: RefreshTokenOwner,
  user: User,
  pair: { readonly sessionToken: string; readonly refreshToken: string },
  client: SessionClient,
): Promise<boolean> {
  const sessionTokenHash = hashToken(pair.sessionToken);
  await context.sessions.createSession(
    buildSession(context, user, sessionTokenHash, client, owner.family.id),
  );
  const rotated = await context.refreshFamilies.rotateFamily({
    familyId: owner.family.id,
    fromGeneration: owner.generation,
    tokenHash: hashToken(pair.refreshToken),
    sessionTokenHash,
    now: context.clock.now(),
  });
  if (!rotated) return false;
  const family = await context.refreshFamilies.findFamily(owner.family.id);
  if (family === null || family.revokedAt !== null) {
    await context.sessions.deleteSession(sessionTokenHash);
    throw new FlowError('invalid_grant');
  }
  return true;
}

/** A token that is not the current one: the predecessor within its grace, or a replay that ends the family. */
async function answerPredecessor(
  context: AccountContext,
  owner: RefreshTokenOwner,
  pair: { readonly sessionToken: string; readonly refreshToken: string },
  result: RefreshResult,
  observer: RefreshReuseObserver | undefined,
): Promise<RefreshResult> {
  const now = context.clock.now();
  const graceEnd = secondsFrom(owner.family.rotatedAt, context.refreshTokens.reuseGraceSeconds);
  const isPredecessor = owner.generation === owner.family.generation - 1;
  if (isPredecessor && now.getTime() <= graceEnd.getTime()) {
    // The current pair was derived from this token, unless SECRET_KEY changed since: then it is refused,
    // without ending the family (its current token still works).
    if (!equalInConstantTime(hashToken(pair.refreshToken), owner.currentTokenHash)) {
      throw new FlowError('invalid_grant');
    }
    return result;
  }
  await endRefreshFamily(context, owner.family.id);
  await recordAuditEvent(
    context.audit,
    { event: 'refresh_token_reuse', outcome: 'family_revoked', userId: owner.family.userId },
    now,
  );
  observer?.onReuseDetected({ userId: owner.family.userId, familyId: owner.family.id });
  throw new FlowError('invalid_grant', 'Refresh token reused: every token of its family is revoked');
}
