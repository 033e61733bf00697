import { parseEmailAddress } from '../security/email-address.ts';
import type { ImportedAccount, TutorialImportStore, TutorialUser, TutorialUserSource } from './ports.ts';

/** Rows read, checked and written together: one transaction per page. */
export const tutorialImportBatchSize = 1000;

/**
 * The hashes passlib wrote and Latchkey verifies (and replaces by argon2id at the first login): bcrypt
 * (`$2b$`, also `$2a$`/`$2y$`) and passlib's bcrypt_sha256. Anything else could never be logged in with.
 */
const importablePasswordHash =
  /^(\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|\$bcrypt-sha256\$v=2,t=2[aby],r=\d{2}\$[./A-Za-z0-9]{22}\$[./A-Za-z0-9]{31})$/;

export type TutorialImportSkipReason =
  /** Not one plain address Latchkey accepts at registration. */
  | 'invalid_email'
  /** Not a bcrypt or bcrypt_sha256 hash of passlib's. */
  | 'unknown_password_hash'
  /** Another tutorial user's address is the same mailbox once normalised (`Alice@x`, `alice@x`): both skipped. */
  | 'address_collision'
  /** Latchkey already has an account with this address. */
  | 'address_in_use';

/** What happened to one tutorial user, as it happens (a run may hold far more rows than memory should). */
export type TutorialImportEvent =
  | {
      readonly kind: 'skipped';
      readonly tutorialId: number;
      readonly email: string;
      readonly reason: TutorialImportSkipReason;
      /** For a collision: the ids of the other tutorial users with the same address key. */
      readonly collidesWith?: readonly number[];
    }
  | { readonly kind: 'imported'; readonly tutorialId: number; readonly email: string };

export interface TutorialImportSummary {
  readonly dryRun: boolean;
  /** Rows in the tutorial's table. */
  readonly read: number;
  /** Accounts created (by a dry run: that would be created). */
  readonly imported: number;
  /** Imported by an earlier run: left as they are. */
  readonly alreadyImported: number;
  readonly skipped: Readonly<Record<TutorialImportSkipReason, number>>;
}

/**
 * Imports the tutorial's users: each becomes an account with its passlib hash, flags and creation time, and
 * a map row from its integer id to the account's, written together a page at a time. Rows imported before
 * are left alone, so a rerun imports nothing again; rows that cannot become an account of their own are
 * skipped and reported, never merged into another. With `dryRun`, the same checks run and nothing is written.
 */
export async function importTutorialUsers(options: {
  readonly source: TutorialUserSource;
  readonly store: TutorialImportStore;
  readonly dryRun: boolean;
  readonly now: () => Date;
  readonly onEvent: (event: TutorialImportEvent) => void;
  readonly batchSize?: number;
}): Promise<TutorialImportSummary> {
  const batchSize = options.batchSize ?? tutorialImportBatchSize;
  const idsByEmailKey = await collectIdsByEmailKey(options.source, batchSize);
  const skipped: Record<TutorialImportSkipReason, number> = {
    invalid_email: 0,
    unknown_password_hash: 0,
    address_collision: 0,
    address_in_use: 0,
  };
  let read = 0;
  let imported = 0;
  let alreadyImported = 0;
  const skip = (
    row: Pick<TutorialUser, 'id' | 'email'>,
    reason: TutorialImportSkipReason,
    collidesWith?: number[],
  ): void => {
    skipped[reason] += 1;
    options.onEvent({
      kind: 'skipped',
      tutorialId: row.id,
      email: row.email,
      reason,
      ...(collidesWith === undefined ? {} : { collidesWith }),
    });
  };

  for await (const page of readPages(options.source, batchSize)) {
    read += page.length;
    const importedBefore = await options.store.findImportedTutorialIds(page.map((row) => row.id));
    const candidates: ImportedAccount[] = [];
    for (const row of page) {
      if (importedBefore.has(row.id)) {
        alreadyImported += 1;
        continue;
      }
      const address = parseEmailAddress(row.email);
      if (address === null) {
        skip(row, 'invalid_email');
        continue;
      }
      if (!importablePasswordHash.test(row.hashedPassword)) {
        skip(row, 'unknown_password_hash');
        continue;
      }
      const sameKey = idsByEmailKey.get(address.key) ?? [];
      if (sameKey.length > 1) {
        skip(
          row,
          'address_collision',
          sameKey.filter((id) => id !== row.id),
        );
        continue;
      }
      candidates.push({
        tutorialId: row.id,
        email: address.address,
        emailKey: address.key,
        passwordHash: row.hashedPassword,
        isActive: row.isActive,
        isVerified: row.isVerified,
        createdAt: row.createdAt ?? options.now(),
      });
    }

    const taken = await options.store.findTakenEmailKeys(candidates.map((account) => account.emailKey));
    const accounts = candidates.filter((account) => !taken.has(account.emailKey));
    let notInserted = new Set<number>();
    if (!options.dryRun && accounts.length > 0) {
      notInserted = new Set(
        (await options.store.insertImportedAccounts(accounts, options.now())).notInserted,
      );
    }
    for (const account of candidates) {
      if (taken.has(account.emailKey) || notInserted.has(account.tutorialId)) {
        skip({ id: account.tutorialId, email: account.email }, 'address_in_use');
        continue;
      }
      imported += 1;
      options.onEvent({ kind: 'imported', tutorialId: account.tutorialId, email: account.email });
    }
  }
  return { dryRun: options.dryRun, read, imported, alreadyImported, skipped };
}

/**
 * The first pass: which tutorial ids share an address key. Only keys and ids are kept, not the rows, so a
 * collision between the first and the last row of a large table is still seen before either is imported.
 */
async function collectIdsByEmailKey(
  source: TutorialUserSource,
  batchSize: number,
): Promise<Map<string, number[]>> {
  const idsByEmailKey = new Map<string, number[]>();
  for await (const page of readPages(source, batchSize)) {
    for (const row of page) {
      const address = parseEmailAddress(row.email);
      if (address === null) continue;
      const ids = idsByEmailKey.get(address.key);
      if (ids === undefined) idsByEmailKey.set(address.key, [row.id]);
      else ids.push(row.id);
    }
  }
  return idsByEmailKey;
}

async function* readPages(source: TutorialUserSource, batchSize: number): AsyncGenerator<TutorialUser[]> {
  let afterId = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = await source.readTutorialUsers(afterId, batchSize);
    if (page.length === 0) return;
    yield page;
    afterId = page[page.length - 1]?.id ?? afterId;
    if (page.length < batchSize) return;
  }
}
