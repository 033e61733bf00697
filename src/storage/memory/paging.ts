import type { Page, PagePosition } from '../../flows/ports.ts';

/** A row's place in (time, id) order; memory keeps milliseconds, so the microseconds are always 000. */
export function positionOf(at: Date, id: string): PagePosition {
  return { atMicroseconds: (BigInt(at.getTime()) * 1000n).toString(), id };
}

export function isAfterPosition(position: PagePosition, after: PagePosition): boolean {
  const a = BigInt(position.atMicroseconds);
  const b = BigInt(after.atMicroseconds);
  return a > b || (a === b && position.id > after.id);
}

/** The first `limit` rows in (time, id) order, and where the page ends when more follow. */
export function pageOf<Row>(rows: Row[], position: (row: Row) => PagePosition, limit: number): Page<Row> {
  const sorted = rows
    .map((row) => ({ row, at: position(row) }))
    .sort((x, y) => (isAfterPosition(x.at, y.at) ? 1 : isAfterPosition(y.at, x.at) ? -1 : 0));
  const page = sorted.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page.map((entry) => entry.row),
    next: sorted.length > limit && last !== undefined ? last.at : null,
  };
}
