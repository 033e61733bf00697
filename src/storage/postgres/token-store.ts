import { and, eq, gt, isNull } from './drizzle.ts';
import type { TokenPurpose } from '../../flows/model.ts';
import type { NewToken, TokenOwner, TokenStore } from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { userTokens } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

const tokenOwnerColumns = { userId: userTokens.userId, email: userTokens.email };

export class PostgresTokenStore extends PostgresStore implements TokenStore {
  async createToken(input: NewToken): Promise<void> {
    await this.db.insert(userTokens).values(input);
  }

  async findValidToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<TokenOwner | null> {
    const rows = await this.db
      .select(tokenOwnerColumns)
      .from(userTokens)
      .where(this.#usable(tokenHash, purpose, now))
      .limit(1);
    return rows[0] ?? null;
  }

  async consumeToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<TokenOwner | null> {
    // One UPDATE ... WHERE consumed_at IS NULL: the row lock makes concurrent consumers queue, and every one
    // after the first finds consumed_at set, so exactly one wins.
    const rows = await this.db
      .update(userTokens)
      .set({ consumedAt: now })
      .where(this.#usable(tokenHash, purpose, now))
      .returning(tokenOwnerColumns);
    return rows[0] ?? null;
  }

  async invalidateUserTokens(
    userId: string,
    purpose: TokenPurpose,
    now: Date,
    options: { readonly email?: string } = {},
  ): Promise<void> {
    await this.db
      .update(userTokens)
      .set({ consumedAt: now })
      .where(
        and(
          eq(userTokens.userId, userId),
          eq(userTokens.purpose, purpose),
          isNull(userTokens.consumedAt),
          options.email === undefined ? undefined : eq(userTokens.email, options.email),
        ),
      );
  }

  #usable(tokenHash: string, purpose: TokenPurpose, now: Date) {
    return and(
      eq(userTokens.tokenHash, tokenHash),
      eq(userTokens.purpose, purpose),
      isNull(userTokens.consumedAt),
      gt(userTokens.expiresAt, now),
    );
  }
}
translatePostgresOutages(PostgresTokenStore.prototype);
