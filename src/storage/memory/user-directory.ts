import type { User } from '../../flows/model.ts';
import type { Page, UserDirectory, UserListQuery } from '../../flows/ports.ts';
import { MemoryDatabaseStore } from './database.ts';
import { isAfterPosition, pageOf, positionOf } from './paging.ts';

/** The operators' view of the memory database's accounts. */
export class MemoryUserDirectory extends MemoryDatabaseStore implements UserDirectory {
  async listUsers(query: UserListQuery): Promise<Page<User>> {
    const matching = this.database.users
      .rows()
      .filter(
        (user) =>
          (query.containing === null || user.emailKey.includes(query.containing)) &&
          (query.after === null || isAfterPosition(positionOf(user.createdAt, user.id), query.after)),
      );
    return pageOf(matching, (user) => positionOf(user.createdAt, user.id), query.limit);
  }

  async findPendingEmailChange(userId: string, now: Date): Promise<string | null> {
    const pending = this.database.tokens
      .rows()
      .filter(
        (token) =>
          token.userId === userId &&
          token.purpose === 'email_change_confirm' &&
          token.consumedAt === null &&
          token.expiresAt > now,
      )
      .at(-1);
    return pending?.email ?? null;
  }

  async findLastLoginAt(userId: string): Promise<Date | null> {
    let last: Date | null = null;
    for (const event of this.database.auditEvents.rows()) {
      if (event.userId !== userId || event.event !== 'login' || event.outcome !== 'success') continue;
      if (last === null || event.occurredAt > last) last = event.occurredAt;
    }
    return last;
  }
}
