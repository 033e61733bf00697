import { and, eq, gt, ne } from './drizzle.ts';
import type { Session } from '../../flows/model.ts';
import type { SessionStore } from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { sessions } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

/** Sessions in PostgreSQL (embedded mode, or production without Redis): a restart logs nobody out. */
export class PostgresSessionStore extends PostgresStore implements SessionStore {
  async createSession(session: Session): Promise<void> {
    // A refresh derives its session token, so racing refreshes may store one session twice: the first stays.
    await this.db
      .insert(sessions)
      .values({ ...session, refreshFamilyId: session.refreshFamilyId ?? null })
      .onConflictDoNothing();
  }

  async findSession(tokenHash: string, now: Date): Promise<Session | null> {
    const rows = await this.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now)))
      .limit(1);
    return rows[0] === undefined ? null : sessionOf(rows[0]);
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.userId, userId));
  }

  async listUserSessions(userId: string, now: Date): Promise<Session[]> {
    const rows = await this.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, now)));
    return rows.map(sessionOf);
  }

  async touchSession(session: Session, lastSeenAt: Date): Promise<void> {
    await this.db.update(sessions).set({ lastSeenAt }).where(eq(sessions.tokenHash, session.tokenHash));
  }

  async deleteOtherUserSessions(userId: string, keptTokenHash: string): Promise<void> {
    await this.db
      .delete(sessions)
      .where(and(eq(sessions.userId, userId), ne(sessions.tokenHash, keptTokenHash)));
  }
}
translatePostgresOutages(PostgresSessionStore.prototype);

/**
 * A row as a Session; rows from before the activity columns existed read as created and never seen since. A
 * null family reads as unknown (absent), which costs nothing here: the family store is this same database.
 */
function sessionOf(row: typeof sessions.$inferSelect): Session {
  const { refreshFamilyId, ...rest } = row;
  return {
    ...rest,
    lastSeenAt: row.lastSeenAt ?? row.createdAt,
    ...(refreshFamilyId !== null && { refreshFamilyId }),
  };
}
