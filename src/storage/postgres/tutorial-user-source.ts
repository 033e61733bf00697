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

const tutorialColumns = ['id', 'email', 'hashed_password', 'is_active', 'is_verified', 'created_at'];

/** A clear refusal when `--from` is not the tutorial's database, instead of a failed query halfway. */
async function assertTutorialUsersTable(client: pg.Client): Promise<void> {
  const result = await client.query<{ column_name: string }>(
    `select column_name from information_schema.columns
     where table_schema = current_schema() and table_name = 'users'`,
  );
  const present = new Set(result.rows.map((row) => row.column_name));
  const missing = tutorialColumns.filter((column) => !present.has(column));
  if (present.size === 0) throw new Error("the database has no `users` table: is it the tutorial's?");
  if (missing.length > 0) {
    throw new Error(`the \`users\` table has no ${missing.join(', ')}: is it the tutorial's (models.py)?`);
  }
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
      await assertTutorialUsersTable(client);
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
