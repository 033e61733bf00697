import pg from 'pg';
import type { TutorialUser, TutorialUserSource } from '../../flows/ports.ts';

interface TutorialUserRow {
  id: number;
  email: string;
  hashed_password: string;
  is_active: boolean | null;
  is_verified: boolean | null;
  created_at: Date | null;
}

/**
 * The FastAPI tutorial's database (models.py's `users` table), read inside one read-only, repeatable-read
 * transaction: every page of every pass sees the same snapshot, even while the tutorial keeps running.
 */
export class PostgresTutorialUserSource implements TutorialUserSource {
  readonly #client: pg.Client;
  private constructor(client: pg.Client) {
    this.#client = client;
  }

  static async open(url: string): Promise<PostgresTutorialUserSource> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
    } catch (error) {
      await client.end();
      throw error;
    }
    return new PostgresTutorialUserSource(client);
  }

  async readTutorialUsers(afterId: number, limit: number): Promise<TutorialUser[]> {
    // The tutorial wrote datetime.utcnow() into a column without a time zone: naive UTC.
    const result = await this.#client.query<TutorialUserRow>(
      `select id, email, hashed_password, is_active, is_verified, created_at at time zone 'UTC' as created_at
       from users where id > $1::bigint order by id limit $2`,
      [afterId, limit],
    );
    return result.rows.map((row) => ({
      id: row.id,
      email: row.email,
      hashedPassword: row.hashed_password,
      isActive: row.is_active === true,
      isVerified: row.is_verified === true,
      createdAt: row.created_at,
    }));
  }

  async close(): Promise<void> {
    try {
      await this.#client.query('rollback');
    } finally {
      await this.#client.end();
    }
  }
}
