import type { TokenPurpose } from '../../flows/model.ts';
import type { NewToken, TokenOwner, TokenStore } from '../../flows/ports.ts';
import { MemoryDatabaseStore, type TokenRow } from './database.ts';

/** Tokens keyed by hash. Each call runs without a pause, so a consumption is atomic as the UPDATE is. */
export class MemoryTokenStore extends MemoryDatabaseStore implements TokenStore {
  async createToken(input: NewToken): Promise<void> {
    if (this.database.tokens.get(input.tokenHash) !== undefined) {
      throw new Error('a token with this hash exists already');
    }
    this.database.tokens.put(input.tokenHash, { ...input, consumedAt: null }, this.journal);
  }

  async findValidToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<TokenOwner | null> {
    const token = this.#findUsable(tokenHash, purpose, now);
    return token === undefined ? null : ownerOf(token);
  }

  async consumeToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<TokenOwner | null> {
    const token = this.#findUsable(tokenHash, purpose, now);
    if (token === undefined) return null;
    this.database.tokens.put(tokenHash, { ...token, consumedAt: now }, this.journal);
    return ownerOf(token);
  }

  async invalidateUserTokens(
    userId: string,
    purpose: TokenPurpose,
    now: Date,
    options: { readonly email?: string } = {},
  ): Promise<void> {
    for (const token of this.database.tokens.rows()) {
      const carries = options.email === undefined || token.email === options.email;
      if (token.userId === userId && token.purpose === purpose && token.consumedAt === null && carries) {
        this.database.tokens.put(token.tokenHash, { ...token, consumedAt: now }, this.journal);
      }
    }
  }

  #findUsable(tokenHash: string, purpose: TokenPurpose, now: Date): TokenRow | undefined {
    const token = this.database.tokens.get(tokenHash);
    const usable =
      token !== undefined &&
      token.purpose === purpose &&
      token.consumedAt === null &&
      token.expiresAt.getTime() > now.getTime();
    return usable ? token : undefined;
  }
}

function ownerOf(token: TokenRow): TokenOwner {
  return { userId: token.userId, email: token.email ?? null };
}
