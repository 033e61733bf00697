// `npm run keys -- rotate | list`: the JWT signing keys of DATABASE_URL (or the embedded database, while the
// service is stopped). `rotate` publishes a new key now, which every instance starts signing with at one
// documented moment; `list` shows each key's kid, state and times, never a private part.
import { ConfigError, loadConfig } from '../config.ts';
import { openMigratedDatabase } from '../composition/database.ts';
import { resolveSecretKey } from '../composition/secret-key.ts';
import { createSigningKeyContext } from '../composition/signing-keys.ts';
import { rotateSigningKey, signingKeyStateAt } from '../flows/signing-keys.ts';
import { createLogger } from '../logger.ts';

const usage = 'usage: npm run keys -- rotate | list';

const iso = (date: Date | null): string => (date === null ? '-' : date.toISOString());

async function runKeysCommand(command: string | undefined): Promise<number> {
  if (command !== 'rotate' && command !== 'list') {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const config = loadConfig();
  const database = await openMigratedDatabase({ config, logger: createLogger({ level: 'silent' }) });
  try {
    const context = createSigningKeyContext({ config, database, secretKey: resolveSecretKey(config) });
    if (command === 'rotate') {
      const outcome = await rotateSigningKey(context);
      const key = outcome.key;
      if (key === null) throw new Error('no signing key after the rotation');
      process.stdout.write(
        outcome.rotated
          ? `rotated: key ${key.kid} is published now and signs from ${iso(key.signingStartsAt)}\n`
          : `not rotated: key ${key.kid} is already waiting to sign from ${iso(key.signingStartsAt)}\n`,
      );
      return 0;
    }
    const now = context.clock.now();
    const rows = (await context.store.listSigningKeys()).map((key) => [
      key.kid,
      String(key.generation),
      signingKeyStateAt(key, now),
      iso(key.createdAt),
      iso(key.signingStartsAt),
      iso(key.signingEndsAt),
      iso(key.publishedUntil),
    ]);
    const header = ['kid', 'generation', 'state', 'published', 'signs from', 'signs until', 'in JWKS until'];
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
    );
    for (const row of [header, ...rows]) {
      process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}\n`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

try {
  process.exitCode = await runKeysCommand(process.argv[2]);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
