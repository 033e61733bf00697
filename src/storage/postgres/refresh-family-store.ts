import { and, eq, isNull, sql } from './drizzle.ts';
import type { RefreshFamily } from '../../flows/model.ts';
import type {
  EndedFamilyCutoffs,
  NewRefreshFamily,
  RefreshFamilyStore,
  RefreshRotation,
  RefreshTokenOwner,
} from '../../flows/ports.ts';
import { deleteRowsInBatches } from './batched-delete.ts';
import { PostgresStore } from './database.ts';
import { refreshFamilies, refreshTokens } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

interface OwnerRow {
  id: string;
  user_id: string;
  generation: number;
  created_at: string | Date;
  expires_at: string | Date;
  last_used_at: string | Date;
  rotated_at: string | Date;
  revoked_at: string | Date | null;
  token_generation: number;
  current_token_hash: string | null;
}

/** Refresh families and their tokens in PostgreSQL (and embedded PGlite): durable, like the accounts. */
export class PostgresRefreshFamilyStore extends PostgresStore implements RefreshFamilyStore {
  async createFamily(input: NewRefreshFamily): Promise<void> {
    const { family } = input;
    // One statement: the family never exists without its first token.
    await this.db.execute(sql`
      with family as (
        insert into refresh_families
          (id, user_id, generation, created_at, expires_at, last_used_at, rotated_at, revoked_at)
        values (${family.id}, ${family.userId}, ${family.generation}, ${family.createdAt.toISOString()},
          ${family.expiresAt.toISOString()}, ${family.lastUsedAt.toISOString()},
          ${family.rotatedAt.toISOString()}, ${family.revokedAt?.toISOString() ?? null})
        returning id, generation
      )
      insert into refresh_tokens (token_hash, family_id, generation, session_token_hash)
      select ${input.tokenHash}, id, generation, ${input.sessionTokenHash} from family`);
  }

  async findTokenOwner(tokenHash: string): Promise<RefreshTokenOwner | null> {
    const result = await this.db.execute(sql`
      select f.*, t.generation as token_generation, c.token_hash as current_token_hash
      from refresh_tokens t
      join refresh_families f on f.id = t.family_id
      left join refresh_tokens c on c.family_id = f.id and c.generation = f.generation
      where t.token_hash = ${tokenHash}`);
    const row = result.rows[0] as OwnerRow | undefined;
    if (row === undefined) return null;
    return {
      family: familyOf(row),
      generation: Number(row.token_generation),
      currentTokenHash: row.current_token_hash ?? '',
    };
  }

  async findFamily(familyId: string): Promise<RefreshFamily | null> {
    const rows = await this.db.select().from(refreshFamilies).where(eq(refreshFamilies.id, familyId));
    return rows[0] ?? null;
  }

  async rotateFamily(input: RefreshRotation): Promise<boolean> {
    // One conditional UPDATE: concurrent rotations of one family queue on the row lock, and every one after
    // the first finds the generation moved on and changes nothing. The new token lands in the same statement.
    const now = input.now.toISOString();
    const result = await this.db.execute(sql`
      with rotated as (
        update refresh_families
        set generation = generation + 1, rotated_at = ${now}, last_used_at = ${now}
        where id = ${input.familyId} and generation = ${input.fromGeneration} and revoked_at is null
        returning id, generation
      )
      insert into refresh_tokens (token_hash, family_id, generation, session_token_hash)
      select ${input.tokenHash}, id, generation, ${input.sessionTokenHash} from rotated`);
    return (result.rowCount ?? 0) === 1;
  }

  async revokeFamily(familyId: string, now: Date): Promise<string[]> {
    await this.db
      .update(refreshFamilies)
      .set({ revokedAt: now })
      .where(and(eq(refreshFamilies.id, familyId), isNull(refreshFamilies.revokedAt)));
    // A second statement, so it sees a token that a rotation committed while the update waited for its lock.
    const rows = await this.db
      .select({ sessionTokenHash: refreshTokens.sessionTokenHash })
      .from(refreshTokens)
      .where(eq(refreshTokens.familyId, familyId));
    return rows.map((row) => row.sessionTokenHash);
  }

  async findFamilyIdOfSession(sessionTokenHash: string): Promise<string | null> {
    const rows = await this.db
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(eq(refreshTokens.sessionTokenHash, sessionTokenHash))
      .limit(1);
    return rows[0]?.familyId ?? null;
  }

  async revokeUserFamilies(
    userId: string,
    now: Date,
    options: { readonly keptSessionTokenHash?: string } = {},
  ): Promise<void> {
    const kept = options.keptSessionTokenHash ?? null;
    await this.db.execute(sql`
      update refresh_families set revoked_at = ${now.toISOString()}
      where user_id = ${userId} and revoked_at is null
        and id not in (select family_id from refresh_tokens where session_token_hash = ${kept})`);
  }

  async deleteEndedFamilies(cutoffs: EndedFamilyCutoffs): Promise<number> {
    // Their tokens follow by cascade, so a batch of families is bounded too: a family holds a token per refresh.
    return deleteRowsInBatches(this.db, {
      table: 'refresh_families',
      key: 'id',
      condition: sql`expires_at < ${cutoffs.expiredBefore.toISOString()}
        or last_used_at < ${cutoffs.idleBefore.toISOString()}
        or revoked_at < ${cutoffs.revokedBefore.toISOString()}`,
    });
  }
}
translatePostgresOutages(PostgresRefreshFamilyStore.prototype);

function familyOf(row: OwnerRow): RefreshFamily {
  return {
    id: row.id,
    userId: row.user_id,
    generation: Number(row.generation),
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    lastUsedAt: new Date(row.last_used_at),
    rotatedAt: new Date(row.rotated_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}
