import { FlowError } from './errors.ts';
import type { PagePosition } from './ports.ts';

/** Rows per page unless asked, and at most. */
export const defaultPageLimit = 50;
export const maximumPageLimit = 100;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a row id (UUID): anything else is refused before a query (400, never a 500). */
export function isWellFormedId(id: string): boolean {
  return uuidPattern.test(id);
}

/** The opaque cursor of a page's end: base64url of `<microseconds>.<id>`. */
export function encodeCursor(position: PagePosition | null): string | null {
  return position === null
    ? null
    : Buffer.from(`${position.atMicroseconds}.${position.id}`, 'utf8').toString('base64url');
}

/** The position a cursor names; `invalid_cursor` (400) for anything a page did not return. */
export function decodeCursor(cursor: string | undefined): PagePosition | null {
  if (cursor === undefined || cursor === '') return null;
  const [atMicroseconds, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  if (
    extra !== undefined ||
    atMicroseconds === undefined ||
    !/^\d{1,20}$/.test(atMicroseconds) ||
    id === undefined ||
    !isWellFormedId(id)
  ) {
    throw new FlowError('invalid_cursor');
  }
  return { atMicroseconds, id: id.toLowerCase() };
}
