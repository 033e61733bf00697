// `npm run config:docs`: writes .env.example and the variable tables of docs/configuration.md from the one
// description in src/config.ts. test/config/docs.test.ts fails when the committed files differ from it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { configGroups, configRules, configVariables, type ConfigVariable } from '../config.ts';

export const envExamplePath = fileURLToPath(new URL('../../.env.example', import.meta.url));
export const configurationDocPath = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

const generatedStart = '<!-- generated from src/config.ts by `npm run config:docs`: start -->';
const generatedEnd = '<!-- generated from src/config.ts by `npm run config:docs`: end -->';
const commentWidth = 110;

const envExampleHeader = `# Latchkey configuration. Copy to .env (read from the working directory; the process environment wins)
# and uncomment what you need. Every line below is commented out and shows the default or a placeholder:
# with no variable set, Latchkey runs on http://localhost:8000 with an embedded database in ./data.
# Written by \`npm run config:docs\` from src/config.ts: change the description there, not this file.
# Every variable, with its bounds: docs/configuration.md.`;

function describedVariables(): [string, ConfigVariable<unknown>][] {
  return Object.entries(configVariables) as [string, ConfigVariable<unknown>][];
}

/** The value .env.example shows: the default, or a placeholder. */
export function exampleValue(variable: ConfigVariable<unknown>): string {
  return variable.defaultValue ?? variable.example ?? '';
}

export function renderEnvExample(): string {
  const sections: string[] = [envExampleHeader];
  for (const [group, title] of Object.entries(configGroups)) {
    const lines = [`# ---- ${title} ----`];
    for (const [name, variable] of describedVariables()) {
      if (variable.group !== group) continue;
      lines.push('', ...wrapComment(variable.doc), `# ${name}=${quoteEnvValue(exampleValue(variable))}`);
    }
    sections.push(lines.join('\n'));
  }
  return `${sections.join('\n\n')}\n`;
}

/** The variable tables and the rules, as they stand between the markers of docs/configuration.md. */
export function renderConfigurationTables(): string {
  const parts: string[] = [];
  for (const [group, title] of Object.entries(configGroups)) {
    parts.push(`### ${title}`, '', '| variable | default | accepts | meaning |', '| --- | --- | --- | --- |');
    for (const [name, variable] of describedVariables()) {
      if (variable.group !== group) continue;
      const defaultText =
        variable.defaultValue !== undefined ? `\`${variable.defaultValue}\`` : (variable.defaultNote ?? '');
      const meaning = [variable.doc, variable.details, readOnlyWithNote(variable)].filter(Boolean).join(' ');
      parts.push(`| \`${name}\` | ${cell(defaultText)} | ${cell(variable.accepts)} | ${cell(meaning)} |`);
    }
    parts.push('');
  }
  parts.push('### Rules across variables', '', ...configRules.map((rule) => `- ${rule.doc}`));
  return parts.join('\n');
}

/** docs/configuration.md as it must be: its prose as written, its tables from the description. */
export async function renderConfigurationDoc(current: string): Promise<string> {
  const start = current.indexOf(generatedStart);
  const end = current.indexOf(generatedEnd);
  if (start === -1 || end < start)
    throw new Error(`${configurationDocPath} lost its generated-section markers`);
  const text = `${current.slice(0, start + generatedStart.length)}\n\n${renderConfigurationTables()}\n\n${current.slice(end)}`;
  const options = await prettier.resolveConfig(configurationDocPath);
  return prettier.format(text, { ...options, filepath: configurationDocPath });
}

function readOnlyWithNote(variable: ConfigVariable<unknown>): string | undefined {
  return variable.readOnlyWith === undefined
    ? undefined
    : `Read only when \`${variable.readOnlyWith}\` is set.`;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function quoteEnvValue(value: string): string {
  return /[\s#"']/.test(value) ? `"${value}"` : value;
}

function wrapComment(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > commentWidth && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

if (import.meta.main) {
  writeFileSync(envExamplePath, renderEnvExample());
  writeFileSync(
    configurationDocPath,
    await renderConfigurationDoc(readFileSync(configurationDocPath, 'utf8')),
  );
  process.stdout.write(`wrote ${envExamplePath} and ${configurationDocPath}\n`);
}
