import type { RefreshFamily } from '../../flows/model.ts';
import type {
  EndedFamilyCutoffs,
  NewRefreshFamily,
  RefreshFamilyStore,
  RefreshRotation,
  RefreshTokenOwner,
} from '../../flows/ports.ts';

interface StoredToken {
  readonly familyId: string;
  readonly generation: number;
  readonly sessionTokenHash: string;
}

/** Refresh families in this process's memory; every call runs to completion before the next starts. */
export class MemoryRefreshFamilyStore implements RefreshFamilyStore {
  readonly #families = new Map<string, RefreshFamily>();
  readonly #tokens = new Map<string, StoredToken>();

  async createFamily(input: NewRefreshFamily): Promise<void> {
    this.#families.set(input.family.id, { ...input.family });
    this.#tokens.set(input.tokenHash, {
      familyId: input.family.id,
      generation: input.family.generation,
      sessionTokenHash: input.sessionTokenHash,
    });
  }

  async findTokenOwner(tokenHash: string): Promise<RefreshTokenOwner | null> {
    const token = this.#tokens.get(tokenHash);
    const family = token === undefined ? undefined : this.#families.get(token.familyId);
    if (token === undefined || family === undefined) return null;
    const current = [...this.#tokens].find(
      ([, other]) => other.familyId === family.id && other.generation === family.generation,
    );
    return { family: { ...family }, generation: token.generation, currentTokenHash: current?.[0] ?? '' };
  }

  async findFamily(familyId: string): Promise<RefreshFamily | null> {
    const family = this.#families.get(familyId);
    return family === undefined ? null : { ...family };
  }

  async rotateFamily(input: RefreshRotation): Promise<boolean> {
    const family = this.#families.get(input.familyId);
    if (family === undefined || family.revokedAt !== null || family.generation !== input.fromGeneration) {
      return false;
    }
    const generation = input.fromGeneration + 1;
    this.#families.set(family.id, { ...family, generation, rotatedAt: input.now, lastUsedAt: input.now });
    this.#tokens.set(input.tokenHash, {
      familyId: family.id,
      generation,
      sessionTokenHash: input.sessionTokenHash,
    });
    return true;
  }

  async revokeFamily(familyId: string, now: Date): Promise<string[]> {
    const family = this.#families.get(familyId);
    if (family === undefined) return [];
    if (family.revokedAt === null) this.#families.set(familyId, { ...family, revokedAt: now });
    return [...this.#tokens.values()]
      .filter((token) => token.familyId === familyId)
      .map((token) => token.sessionTokenHash);
  }

  async findFamilyIdOfSession(sessionTokenHash: string): Promise<string | null> {
    for (const token of this.#tokens.values()) {
      if (token.sessionTokenHash === sessionTokenHash) return token.familyId;
    }
    return null;
  }

  async revokeUserFamilies(
    userId: string,
    now: Date,
    options: { readonly keptSessionTokenHash?: string } = {},
  ): Promise<void> {
    const kept =
      options.keptSessionTokenHash === undefined
        ? null
        : await this.findFamilyIdOfSession(options.keptSessionTokenHash);
    for (const family of this.#families.values()) {
      if (family.userId === userId && family.id !== kept && family.revokedAt === null) {
        this.#families.set(family.id, { ...family, revokedAt: now });
      }
    }
  }

  async deleteEndedFamilies(cutoffs: EndedFamilyCutoffs): Promise<number> {
    let deleted = 0;
    for (const family of this.#families.values()) {
      const ended =
        family.expiresAt.getTime() < cutoffs.expiredBefore.getTime() ||
        family.lastUsedAt.getTime() < cutoffs.idleBefore.getTime() ||
        (family.revokedAt !== null && family.revokedAt.getTime() < cutoffs.revokedBefore.getTime());
      if (!ended) continue;
      this.#families.delete(family.id);
      for (const [tokenHash, token] of this.#tokens) {
        if (token.familyId === family.id) this.#tokens.delete(tokenHash);
      }
      deleted += 1;
    }
    return deleted;
  }
}
