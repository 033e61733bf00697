import type { SigningKeyStore, StoredSigningKey } from '../../flows/ports.ts';

/** JWT signing keys in this process's memory: the flow tests' store. */
export class MemorySigningKeyStore implements SigningKeyStore {
  readonly #keys = new Map<number, StoredSigningKey>();

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    return [...this.#keys.values()].sort((a, b) => a.generation - b.generation).map((key) => ({ ...key }));
  }

  async insertSigningKey(
    key: StoredSigningKey,
    retire: { readonly signingEndsAt: Date; readonly publishedUntil: Date },
  ): Promise<boolean> {
    if (this.#keys.has(key.generation)) return false;
    if ([...this.#keys.values()].some((stored) => stored.kid === key.kid)) return false;
    for (const stored of this.#keys.values()) {
      if (stored.generation < key.generation && stored.signingEndsAt === null) {
        this.#keys.set(stored.generation, { ...stored, ...retire });
      }
    }
    this.#keys.set(key.generation, { ...key });
    return true;
  }

  async deleteSigningKeysUnpublishedBefore(before: Date): Promise<number> {
    let deleted = 0;
    for (const key of this.#keys.values()) {
      if (key.publishedUntil !== null && key.publishedUntil < before) {
        this.#keys.delete(key.generation);
        deleted += 1;
      }
    }
    return deleted;
  }
}
