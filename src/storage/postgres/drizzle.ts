import { createRequire } from 'node:module';

/*
 * Every runtime use of drizzle-orm goes through here. Its ES module build is some 450 small files, which Node's
 * ES module loader took 0.7 s of start-up to resolve and link on the benchmark machine; its CommonJS build, the
 * same code, loads in 0.1 s. Only this copy is loaded (type-only imports of 'drizzle-orm' are erased). drizzle-kit
 * loads schema.ts as CommonJS, where `require` already exists.
 */
const load = typeof require === 'function' ? require : createRequire(import.meta.url);

export const { and, asc, eq, gt, inArray, isNotNull, isNull, lt, ne, sql } = load(
  'drizzle-orm',
) as typeof import('drizzle-orm');
export const { boolean, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } = load(
  'drizzle-orm/pg-core',
) as typeof import('drizzle-orm/pg-core');
export const { drizzle } = load('drizzle-orm/node-postgres') as typeof import('drizzle-orm/node-postgres');
export const { readMigrationFiles } = load('drizzle-orm/migrator') as typeof import('drizzle-orm/migrator');
