import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { User } from '../../flows/model.ts';
import { localeOfTag } from '../../security/locale.ts';
import type { Page, UserDirectory, UserListQuery } from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { auditEvents, users, userTokens } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';
import { selectPage } from './paging.ts';

export class PostgresUserDirectory extends PostgresStore implements UserDirectory {
  async listUsers(query: UserListQuery): Promise<Page<User>> {
    const conditions: SQL[] = [];
    if (query.containing !== null) {
      // LIKE's own characters in the search text stand for themselves.
      const pattern = `%${query.containing.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
      conditions.push(sql`email_key like ${pattern}`);
    }
    return selectPage<UserRow, User>(
      this.db,
      {
        columns: sql`id, email, email_key, password_hash, is_active, is_verified, created_at, deleted_at, locale`,
        from: sql`${users}`,
        time: sql`created_at`,
        conditions,
        after: query.after,
        limit: query.limit,
      },
      (row) => ({
        id: row.id,
        email: row.email,
        emailKey: row.email_key,
        passwordHash: row.password_hash,
        isActive: row.is_active,
        isVerified: row.is_verified,
        createdAt: new Date(row.created_at),
        deletedAt: row.deleted_at === null ? null : new Date(row.deleted_at),
        locale: localeOfTag(row.locale) ?? null,
      }),
    );
  }

  async findPendingEmailChange(userId: string, now: Date): Promise<string | null> {
    const result = await this.db.execute<{ email: string | null }>(sql`
      select email from ${userTokens}
      where user_id = ${userId}::uuid and purpose = 'email_change_confirm' and consumed_at is null
        and expires_at > ${now.toISOString()}::timestamptz
      order by created_at desc limit 1`);
    return result.rows[0]?.email ?? null;
  }

  async findLastLoginAt(userId: string): Promise<Date | null> {
    const result = await this.db.execute<{ at: string | Date | null }>(sql`
      select max(occurred_at) as at from ${auditEvents}
      where user_id = ${userId}::uuid and event = 'login' and outcome = 'success'`);
    const at = result.rows[0]?.at ?? null;
    return at === null ? null : new Date(at);
  }
}
translatePostgresOutages(PostgresUserDirectory.prototype);

interface UserRow extends Record<string, unknown> {
  id: string;
  email: string;
  email_key: string;
  password_hash: string | null;
  is_active: boolean;
  is_verified: boolean;
  created_at: string | Date;
  deleted_at: string | Date | null;
  locale: string | null;
}
