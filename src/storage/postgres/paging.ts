import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { Page, PagePosition } from '../../flows/ports.ts';

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
