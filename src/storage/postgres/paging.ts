import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { Page, PagePosition } from '../../flows/ports.ts';
import type { Db } from './database.ts';

/** The microseconds since the epoch of a timestamptz column, as exact decimal text. */
export function microsecondsOf(column: SQL): SQL<string> {
  return sql<string>`(extract(epoch from ${column}) * 1000000)::bigint::text`;
}

/** `(time, id) > position`, exact to the microsecond and able to use an index on (time, id). */
export function isAfter(time: SQL, id: SQL, position: PagePosition): SQL {
  return sql`(${time}, ${id}) > (timestamptz 'epoch' + ${position.atMicroseconds}::bigint * interval '1 microsecond', ${position.id}::uuid)`;
}

/** The page of `limit` rows out of `limit + 1` fetched: a row beyond the page means more follow. */
export function pageOf<Row extends { readonly position: PagePosition }, Out>(
  fetched: readonly Row[],
  limit: number,
  convert: (row: Row) => Out,
): Page<Out> {
  const page = fetched.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page.map(convert),
    next: fetched.length > limit && last !== undefined ? last.position : null,
  };
}

/**
 * One keyset page: `columns` of the rows of `from` meeting every condition, after `after` in (`time`, id)
 * order, `limit` of them, converted by `convert`.
 */
export async function selectPage<Row extends Record<string, unknown> & { readonly id: string }, Out>(
  db: Db,
  query: {
    readonly columns: SQL;
    readonly from: SQL;
    readonly time: SQL;
    readonly conditions: readonly SQL[];
    readonly after: PagePosition | null;
    readonly limit: number;
  },
  convert: (row: Row) => Out,
): Promise<Page<Out>> {
  const conditions = [sql`true`, ...query.conditions];
  if (query.after !== null) conditions.push(isAfter(query.time, sql`id`, query.after));
  const result = await db.execute<Record<string, unknown>>(sql`
    select ${query.columns}, ${microsecondsOf(query.time)} as at_microseconds
    from ${query.from} where ${sql.join(conditions, sql` and `)}
    order by ${query.time}, id limit ${query.limit + 1}`);
  return pageOf(
    // The row as the caller's query selects it, with its place in the order.
    result.rows.map((row) => ({
      row: row as Row,
      position: { atMicroseconds: String(row.at_microseconds), id: String(row.id) },
    })),
    query.limit,
    (entry) => convert(entry.row),
  );
}
