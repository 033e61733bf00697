import type { Locale } from '../../security/locale.ts';
import { and, eq, isNotNull, sql } from './drizzle.ts';
import type { User } from '../../flows/model.ts';
import type { UserStore } from '../../flows/ports.ts';
import type { Db } from './database.ts';
import { users } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

const userColumns = {
  id: users.id,
  email: users.email,
  emailKey: users.emailKey,
  passwordHash: users.passwordHash,
  isActive: users.isActive,
  isVerified: users.isVerified,
  createdAt: users.createdAt,
  deletedAt: users.deletedAt,
  locale: users.locale,
};

export class PostgresUserStore implements UserStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async insertUser(input: {
    email: string;
    emailKey: string;
    passwordHash: string;
    locale?: Locale | null;
  }): Promise<User | null> {
    const rows = await this.#db
      .insert(users)
      .values({ ...input, locale: input.locale ?? null })
      .onConflictDoNothing({ target: users.emailKey })
      .returning(userColumns);
    return rows[0] ?? null;
  }

  async findUserByEmailKey(emailKey: string): Promise<User | null> {
    // No named prepared statement: behind PgBouncer in transaction pooling mode (1.18 has no support for them)
    // the next transaction may run on a server connection where the name was never prepared.
    const rows = await this.#db.select(userColumns).from(users).where(eq(users.emailKey, emailKey)).limit(1);
    return rows[0] ?? null;
  }

  async findUserById(userId: string): Promise<User | null> {
    const rows = await this.#db.select(userColumns).from(users).where(eq(users.id, userId)).limit(1);
    return rows[0] ?? null;
  }

  async markUserVerified(userId: string): Promise<void> {
    await this.#db
      .update(users)
      .set({ isVerified: true, updatedAt: sql`now()` })
      .where(eq(users.id, userId));
  }

  async setUserPasswordHash(
    userId: string,
    passwordHash: string | null,
    options: { markVerified?: boolean } = {},
  ): Promise<void> {
    await this.#db
      .update(users)
      .set({
        passwordHash,
        updatedAt: sql`now()`,
        ...(options.markVerified === true ? { isVerified: true } : {}),
      })
      .where(eq(users.id, userId));
  }

  async replaceUserPasswordHash(userId: string, currentHash: string, newHash: string): Promise<void> {
    await this.#db
      .update(users)
      .set({ passwordHash: newHash, updatedAt: sql`now()` })
      .where(and(eq(users.id, userId), eq(users.passwordHash, currentHash)));
  }

  async markUserDeleted(userId: string, at: Date): Promise<void> {
    await this.#db
      .update(users)
      .set({ deletedAt: at, updatedAt: sql`now()` })
      .where(eq(users.id, userId));
  }

  async restoreUser(userId: string): Promise<boolean> {
    const rows = await this.#db
      .update(users)
      .set({ deletedAt: null, updatedAt: sql`now()` })
      .where(and(eq(users.id, userId), isNotNull(users.deletedAt)))
      .returning({ id: users.id });
    return rows.length > 0;
  }

  async setUserActive(userId: string, isActive: boolean): Promise<boolean> {
    const rows = await this.#db
      .update(users)
      .set({ isActive, updatedAt: sql`now()` })
      .where(eq(users.id, userId))
      .returning({ id: users.id });
    return rows.length > 0;
  }

  async setUserLocale(userId: string, locale: Locale): Promise<boolean> {
    const rows = await this.#db
      .update(users)
      .set({ locale, updatedAt: sql`now()` })
      .where(eq(users.id, userId))
      .returning({ id: users.id });
    return rows.length > 0;
  }

  async lockUserById(userId: string): Promise<User | null> {
    const rows = await this.#db
      .select(userColumns)
      .from(users)
      .where(eq(users.id, userId))
      .limit(1)
      .for('update');
    return rows[0] ?? null;
  }

  async changeUserEmail(userId: string, email: string, emailKey: string): Promise<boolean> {
    // In a savepoint: a key taken meanwhile (the unique index refuses it) undoes only this update, and the
    // flow answers 409 instead of failing the whole transaction.
    try {
      const rows = await this.#db.transaction(async (savepoint) =>
        savepoint
          .update(users)
          .set({ email, emailKey, updatedAt: sql`now()` })
          .where(eq(users.id, userId))
          .returning({ id: users.id }),
      );
      return rows.length > 0;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }
}

/** PostgreSQL's unique_violation (23505), also when drizzle wraps the driver's error. */
function isUniqueViolation(error: unknown): boolean {
  for (
    let current = error, depth = 0;
    typeof current === 'object' && current !== null && depth < 5;
    depth += 1
  ) {
    if ((current as { code?: unknown }).code === '23505') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
translatePostgresOutages(PostgresUserStore.prototype);
