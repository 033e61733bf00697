import type { Locale } from '../../security/locale.ts';
import { randomUUID } from 'node:crypto';
import type { User } from '../../flows/model.ts';
import type { UserStore } from '../../flows/ports.ts';
import { MemoryDatabaseStore } from './database.ts';

/** Users keyed by address key, which makes the key unique as the database's unique index does. */
export class MemoryUserStore extends MemoryDatabaseStore implements UserStore {
  async insertUser(input: {
    email: string;
    emailKey: string;
    passwordHash: string;
    locale?: Locale | null;
  }): Promise<User | null> {
    if (this.database.users.get(input.emailKey) !== undefined) return null;
    const user: User = {
      id: randomUUID(),
      email: input.email,
      emailKey: input.emailKey,
      passwordHash: input.passwordHash,
      isActive: true,
      isVerified: false,
      createdAt: this.database.clock.now(),
      deletedAt: null,
      locale: input.locale ?? null,
    };
    this.database.users.put(user.emailKey, user, this.journal);
    return { ...user };
  }

  async findUserByEmailKey(emailKey: string): Promise<User | null> {
    const user = this.database.users.get(emailKey);
    return user === undefined ? null : { ...user };
  }

  async findUserById(userId: string): Promise<User | null> {
    const user = this.#findById(userId);
    return user === undefined ? null : { ...user };
  }

  async markUserVerified(userId: string): Promise<void> {
    this.#update(userId, () => ({ isVerified: true }));
  }

  async setUserPasswordHash(
    userId: string,
    passwordHash: string | null,
    options: { markVerified?: boolean } = {},
  ): Promise<void> {
    this.#update(userId, (user) => ({
      passwordHash,
      isVerified: user.isVerified || options.markVerified === true,
    }));
  }

  async replaceUserPasswordHash(userId: string, currentHash: string, newHash: string): Promise<void> {
    const user = this.#findById(userId);
    if (user === undefined || user.passwordHash !== currentHash) return;
    this.#update(userId, () => ({ passwordHash: newHash }));
  }

  async lockUserById(userId: string): Promise<User | null> {
    // Memory transactions run one at a time already.
    return this.findUserById(userId);
  }

  async changeUserEmail(userId: string, email: string, emailKey: string): Promise<boolean> {
    const user = this.#findById(userId);
    if (user === undefined) return false;
    const holder = this.database.users.get(emailKey);
    if (holder !== undefined && holder.id !== userId) return false;
    this.database.users.delete(user.emailKey, this.journal);
    this.database.users.put(emailKey, { ...user, email, emailKey }, this.journal);
    return true;
  }

  async markUserDeleted(userId: string, at: Date): Promise<void> {
    this.#update(userId, () => ({ deletedAt: at }));
  }

  async restoreUser(userId: string): Promise<boolean> {
    const user = this.#findById(userId);
    if (user === undefined || user.deletedAt === null) return false;
    this.#update(userId, () => ({ deletedAt: null }));
    return true;
  }

  async setUserActive(userId: string, isActive: boolean): Promise<boolean> {
    if (this.#findById(userId) === undefined) return false;
    this.#update(userId, () => ({ isActive }));
    return true;
  }

  async setUserLocale(userId: string, locale: Locale): Promise<boolean> {
    if (this.#findById(userId) === undefined) return false;
    this.#update(userId, () => ({ locale }));
    return true;
  }

  #findById(userId: string): User | undefined {
    return this.database.users.rows().find((user) => user.id === userId);
  }

  #update(userId: string, change: (user: User) => Partial<User>): void {
    const user = this.#findById(userId);
    if (user === undefined) return;
    this.database.users.put(user.emailKey, { ...user, ...change(user) }, this.journal);
  }
}
