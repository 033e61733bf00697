import type { Session } from '../../flows/model.ts';
import type { SessionStore } from '../../flows/ports.ts';

/** Sessions in this process's memory, keyed by token hash; an expired one is never returned. */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, Session>();

  async createSession(session: Session): Promise<void> {
    this.#sessions.set(session.tokenHash, { ...session });
  }

  async findSession(tokenHash: string, now: Date): Promise<Session | null> {
    const session = this.#sessions.get(tokenHash);
    if (session === undefined || session.expiresAt.getTime() <= now.getTime()) return null;
    return { ...session };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.#sessions.delete(tokenHash);
  }

  async deleteUserSessions(userId: string): Promise<void> {
    for (const session of this.#sessions.values()) {
      if (session.userId === userId) this.#sessions.delete(session.tokenHash);
    }
  }

  async deleteOtherUserSessions(userId: string, keptTokenHash: string): Promise<void> {
    for (const session of this.#sessions.values()) {
      if (session.userId === userId && session.tokenHash !== keptTokenHash) {
        this.#sessions.delete(session.tokenHash);
      }
    }
  }

  async listUserSessions(userId: string, now: Date): Promise<Session[]> {
    return [...this.#sessions.values()]
      .filter((session) => session.userId === userId && session.expiresAt.getTime() > now.getTime())
      .map((session) => ({ ...session }));
  }

  async touchSession(session: Session, lastSeenAt: Date): Promise<void> {
    const stored = this.#sessions.get(session.tokenHash);
    if (stored !== undefined) this.#sessions.set(session.tokenHash, { ...stored, lastSeenAt });
  }

  /** For the clean-up: deletes the sessions that expired before `before`, and says how many. */
  deleteSessionsExpiredBefore(before: Date): number {
    let deleted = 0;
    for (const session of this.#sessions.values()) {
      if (session.expiresAt.getTime() < before.getTime() && this.#sessions.delete(session.tokenHash)) {
        deleted += 1;
      }
    }
    return deleted;
  }
}
