import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

// Static, dynamic and re-exporting imports; `import type` and `export type` are erased when Node strips the
// types, so they load nothing. (`import { type X }` is kept as `import {}` and does load its module.)
const importPattern =
  /(?:^|[\n;])\s*(import|export)(\s+type\b)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module a process entry loads: repository files (relative to the root) and packages. */
function loadedModules(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [resolve(root, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    const name = relative(root, file);
    if (seen.has(name)) continue;
    seen.add(name);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(importPattern)) {
      if (match[2] !== undefined) continue;
      const specifier = match[3] ?? match[4] ?? match[5] ?? '';
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else seen.add(`package:${specifier.startsWith('node:') ? specifier : specifier.split('/')[0]}`);
    }
  }
  return seen;
}

/** What only the API uses: the account context, sessions and rate limits, Redis. */
const apiOnlyModules = [
  'src/composition/account-context.ts',
  'src/composition/rate-limiters.ts',
  'src/composition/redis.ts',
  'src/storage/memory/rate-limiter.ts',
  'src/storage/redis/client.ts',
  'src/storage/redis/rate-limiter.ts',
  'src/storage/redis/session-store.ts',
  'src/flows/login.ts',
  'src/flows/registration.ts',
  'package:ioredis',
  'package:rate-limiter-flexible',
];

/**
 * The repository modules among `modules` that call `functionName`. The common-password list is read by a call
 * (half a second, tens of megabytes), not by an import: config.ts reaches its module for the policy's bounds.
 */
function callersOf(functionName: string, modules: Set<string>): string[] {
  const call = new RegExp(`\\b${functionName}\\(`);
  const definition = new RegExp(`function ${functionName}\\(`);
  return [...modules].filter((module) => {
    if (module.startsWith('package:')) return false;
    const source = readFileSync(resolve(root, module), 'utf8').replace(definition, '');
    return call.test(source);
  });
}

describe('each process loads only what it uses', () => {
  test('the API process loads the account context, the common-password list and the rate limiters', () => {
    const api = loadedModules('src/main.ts');
    for (const module of apiOnlyModules) assert.ok(api.has(module), `src/main.ts should reach ${module}`);
    assert.deepEqual(callersOf('loadCommonPasswords', api), ['src/composition/api-process.ts']);
  });

  test('the mail worker never loads the account context, the common-password list, rate limiters or Redis', () => {
    const worker = loadedModules('src/worker.ts');
    assert.ok(worker.has('src/composition/email-delivery.ts'), 'the walk follows the worker composition');
    assert.ok(worker.has('src/email/dispatcher.ts'));
    assert.deepEqual(
      apiOnlyModules.filter((module) => worker.has(module)),
      [],
      'modules of the API reached from src/worker.ts',
    );
    assert.deepEqual(
      callersOf('loadCommonPasswords', worker),
      [],
      'the worker reads the common-password list',
    );
  });
});
