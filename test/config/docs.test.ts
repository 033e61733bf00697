import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  configurationDocPath,
  envExamplePath,
  exampleValue,
  renderConfigurationDoc,
  renderEnvExample,
} from '../../src/cli/config-docs.ts';
import { configVariables, type ConfigVariable } from '../../src/config-variables.ts';

const regenerate = 'run `npm run config:docs` after changing the description in src/config.ts';
const described = Object.entries(configVariables) as [string, ConfigVariable<unknown>][];
const describedNames = described.map(([name]) => name).sort();

describe('.env.example and docs/configuration.md follow src/config.ts', () => {
  test('.env.example lists every variable once, with its default, and nothing else', () => {
    const committed = readFileSync(envExamplePath, 'utf8');
    const shown = new Map<string, string>();
    for (const [, name, value] of committed.matchAll(/^# ([A-Z][A-Z0-9_]*)=(.*)$/gm)) {
      assert.ok(name !== undefined && !shown.has(name), `${name} is shown twice`);
      shown.set(name, (value ?? '').replace(/^"(.*)"$/, '$1'));
    }
    assert.deepEqual([...shown.keys()].sort(), describedNames, 'missing or extra variables');
    for (const [name, variable] of described) {
      assert.equal(shown.get(name), exampleValue(variable), `${name}: documented default or example`);
    }
    assert.equal(committed, renderEnvExample(), regenerate);
  });

  test('docs/configuration.md has one row per variable, with its default, and nothing else', async () => {
    const committed = readFileSync(configurationDocPath, 'utf8');
    const rows = new Map<string, string>();
    for (const [, name, defaultCell] of committed.matchAll(/^\| `([A-Z][A-Z0-9_]*)` +\| ([^|]*?) +\|/gm)) {
      assert.ok(name !== undefined && !rows.has(name), `${name} has two rows`);
      rows.set(name, defaultCell ?? '');
    }
    assert.deepEqual([...rows.keys()].sort(), describedNames, 'missing or extra variables');
    for (const [name, variable] of described) {
      if (variable.defaultValue !== undefined)
        assert.equal(rows.get(name), `\`${variable.defaultValue}\``, `${name}: documented default`);
    }
    assert.equal(committed, await renderConfigurationDoc(committed), regenerate);
  });
});
