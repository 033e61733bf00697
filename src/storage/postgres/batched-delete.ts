import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { Db } from './database.ts';

/**
 * Rows per delete statement. Each statement is its own short transaction: a clean-up of a million rows never
 * holds many row locks, never blocks a login for long and never comes near DATABASE_STATEMENT_TIMEOUT_MS.
 */
export const cleanupBatchRows = 5000;

/** What one batched clean-up statement deletes: rows of `table`, by its primary key `key`, that match `condition`. */
export interface BatchedDelete {
  readonly table: string;
  readonly key: string;
  readonly condition: SQL;
}

/**
 * Deletes every matching row, at most `batchRows` per statement, looping until a statement deletes fewer: the
 * one shape every clean-up statement takes, so a statement added later is bounded the same way. Several
 * processes may run this at once: SKIP LOCKED makes each batch take rows no other clean-up is deleting, so
 * none waits for another, and a row skipped in one pass goes in the next.
 */
export async function deleteRowsInBatches(
  db: Db,
  { table, key, condition }: BatchedDelete,
  batchRows = cleanupBatchRows,
): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.execute(sql`
      delete from ${sql.identifier(table)} where ${sql.identifier(key)} in (
        select ${sql.identifier(key)} from ${sql.identifier(table)} where ${condition}
        limit ${batchRows} for update skip locked)`);
    const deleted = result.rowCount ?? 0;
    total += deleted;
    if (deleted < batchRows) return total;
  }
}
