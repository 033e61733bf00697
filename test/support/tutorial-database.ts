import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testDatabaseUrl } from './backends.ts';
import { createThrowawayDatabase } from './database.ts';
import { startThrowawayPostgres } from './throwaway-postgres.ts';

/** Debian's python3, where the apt packages below are installed (not a pyenv python earlier on PATH). */
export const debianPython = '/usr/bin/python3';
/** The tutorial's own code, models.py and auth_utils.py, kept as it is beside this file. */
export const tutorialSeedFolder = fileURLToPath(new URL('./fastapi-tutorial', import.meta.url));
const seedScript = fileURLToPath(new URL('./tutorial-seed.py', import.meta.url));
const pythonModules = ['sqlalchemy', 'psycopg2', 'passlib', 'bcrypt'];
const debianPackages = 'python3-sqlalchemy python3-psycopg2 python3-passlib python3-bcrypt';

export interface TutorialUserInput {
  readonly email: string;
  /** Hashed by the tutorial's own passlib context. */
  readonly password?: string;
  /** Stored as is instead (rows the tutorial's code would never have written). */
  readonly hashedPassword?: string;
  readonly isActive: boolean;
  readonly isVerified: boolean;
  /** Naive UTC, as the tutorial's datetime.utcnow(); its default (now) when absent. */
  readonly createdAt?: string;
  /** Passwords to check against the stored hash with the tutorial's own verify_password. */
  readonly checkPasswords?: readonly string[];
}

export interface TutorialUserRow {
  readonly id: number;
  readonly email: string;
  readonly hashed_password: string;
  /** Naive UTC, ISO 8601 without an offset. */
  readonly created_at: string;
  readonly verifies: Record<string, boolean>;
}

export interface TutorialDatabase {
  /** postgresql:// (SQLAlchemy 1.4 refuses postgres://). */
  readonly url: string;
  /** Creates the tutorial's tables (models.py) and these users (auth_utils.py's hashing), in order. */
  seedUsers(users: readonly TutorialUserInput[]): Promise<TutorialUserRow[]>;
  drop(): Promise<void>;
}

/** Fails, naming the Debian packages, when the tutorial's code cannot run here: never a silent skip. */
export function assertTutorialPythonAvailable(): void {
  const check = spawnSync(debianPython, ['-c', `import ${pythonModules.join(', ')}`], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(
      `the tutorial's own code needs ${debianPython} with ${pythonModules.join(', ')}: apt-get install -y ${debianPackages}\n${check.stderr ?? String(check.error)}`,
    );
  }
}

/**
 * An empty database for the tutorial, on TEST_DATABASE_URL's server, or on a throwaway cluster of the test's
 * own when that is not set (the tutorial only ever ran on PostgreSQL).
 */
export async function createTutorialDatabase(): Promise<TutorialDatabase> {
  assertTutorialPythonAvailable();
  let adminUrl = testDatabaseUrl();
  let stopServer = async (): Promise<void> => {};
  if (adminUrl === undefined) {
    const server = await startThrowawayPostgres();
    adminUrl = server.url;
    stopServer = () => server.close();
  }
  const database = await createThrowawayDatabase({ adminUrl, namePrefix: 'tutorial_test' });
  const url = database.url.replace(/^postgres:/, 'postgresql:');
  return {
    url,
    async seedUsers(users) {
      const input = JSON.stringify(
        users.map((user) => ({
          email: user.email,
          password: user.password,
          hashed_password: user.hashedPassword,
          is_active: user.isActive,
          is_verified: user.isVerified,
          created_at: user.createdAt,
          check_passwords: user.checkPasswords ?? [],
        })),
      );
      const child = promisify(execFile)(debianPython, [seedScript, tutorialSeedFolder], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DATABASE_URL: url },
        maxBuffer: 16 * 1024 * 1024,
      });
      child.child.stdin?.end(input);
      const { stdout } = await child;
      return JSON.parse(stdout) as TutorialUserRow[];
    },
    async drop() {
      try {
        await database.drop();
      } finally {
        await stopServer();
      }
    },
  };
}
