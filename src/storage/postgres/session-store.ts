import { and, eq, gt, ne } from './drizzle.ts';
import type { Session } from '../../flows/model.ts';
import type { SessionStore } from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { sessions } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

/** Sessions in PostgreSQL (embedded mode, or production without Redis): a restart logs nobody out. */
export class PostgresSessionStore extends PostgresStore implements SessionStore {
  async createSession(session: Session): Promise<void> {
    await this.db.insert(sessions).values(session);
  }

  async findSession(tokenHash: string, now: Date): Promise<Session | null> {
    const rows = await this.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now)))
      .limit(1);
    return rows[0] ?? null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.userId, userId));
  }

  async deleteOtherUserSessions(userId: string, keptTokenHash: string): Promise<void> {
    await this.db
      .delete(sessions)
      .where(and(eq(sessions.userId, userId), ne(sessions.tokenHash, keptTokenHash)));
  }
}
translatePostgresOutages(PostgresSessionStore.prototype);
