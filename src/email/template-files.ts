// Reads EMAIL_TEMPLATES_DIR once at start-up: `<locale>/<template>.subject.txt|.text.txt|.html`, each file
// checked (docs/email-templates.md). Any problem in the folder stops start-up, and every one is listed at once.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isLocale, supportedLocales, type Locale } from '../security/locale.ts';
import type { EmailTemplateName } from '../flows/model.ts';
import {
  checkTemplateSource,
  emailTemplateNames,
  emailTemplatePartSuffixes,
  isEmailTemplateName,
  type EmailTemplateFiles,
  type EmailTemplatePart,
  type EmailTemplateSources,
} from './templates/files.ts';

export class EmailTemplateFilesError extends Error {
  /** One line each, `file:line: what is wrong` (or `file: …` when no line applies). */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`email templates cannot be used:\n  - ${problems.join('\n  - ')}`);
    this.name = 'EmailTemplateFilesError';
    this.problems = problems;
  }
}

const partsBySuffix = Object.entries(emailTemplatePartSuffixes).map(([part, suffix]) => ({
  part: part as EmailTemplatePart,
  suffix,
}));

/**
 * The checked templates under `directory`. Throws EmailTemplateFilesError listing every problem: a folder that
 * is not a supported locale, a file that is not `<template>.<part>`, an unknown template, an unreadable file, a
 * syntax error or a variable the template does not offer. Names starting with a dot are ignored (editors'
 * and version control's files).
 */
export function loadEmailTemplateFiles(directory: string): EmailTemplateFiles {
  const problems: string[] = [];
  const files: Partial<Record<Locale, Partial<Record<EmailTemplateName, EmailTemplateSources>>>> = {};
  for (const name of listFolder(directory, problems)) {
    const path = join(directory, name);
    if (!isLocale(name)) {
      problems.push(
        `${path}: not a locale folder; expected only folders named ${supportedLocales.join(', ')}`,
      );
      continue;
    }
    files[name] = loadLocaleFolder(path, problems);
  }
  if (problems.length > 0) throw new EmailTemplateFilesError(problems);
  return files;
}

function loadLocaleFolder(
  folder: string,
  problems: string[],
): Partial<Record<EmailTemplateName, EmailTemplateSources>> {
  const templates: Partial<Record<EmailTemplateName, Partial<Record<EmailTemplatePart, string>>>> = {};
  for (const name of listFolder(folder, problems)) {
    const path = join(folder, name);
    const match = partsBySuffix.find(({ suffix }) => name.endsWith(suffix));
    if (match === undefined) {
      problems.push(
        `${path}: not a template file; expected <template>.subject.txt, <template>.text.txt or <template>.html`,
      );
      continue;
    }
    const template = name.slice(0, -match.suffix.length);
    if (!isEmailTemplateName(template)) {
      problems.push(`${path}: unknown template "${template}"; known: ${emailTemplateNames.join(', ')}`);
      continue;
    }
    let source: string;
    try {
      if (!statSync(path).isFile()) {
        problems.push(`${path}: not a file`);
        continue;
      }
      // A byte-order mark would otherwise start the subject.
      source = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
    } catch (error) {
      problems.push(`${path}: cannot be read (${describeFileError(error)})`);
      continue;
    }
    const sourceProblems = checkTemplateSource(source, template, match.part);
    for (const problem of sourceProblems) problems.push(`${path}:${problem.line}: ${problem.message}`);
    if (sourceProblems.length === 0) (templates[template] ??= {})[match.part] = source;
  }
  return templates;
}

/**
 * The names in a folder in order (so problems are listed the same way every time), dotfiles left out. Symbolic
 * links are followed (stat, not the entry's own type): a mounted Kubernetes ConfigMap is made of them.
 */
function listFolder(folder: string, problems: string[]): string[] {
  try {
    if (!statSync(folder).isDirectory()) {
      problems.push(`${folder}: not a folder`);
      return [];
    }
    return readdirSync(folder)
      .filter((name) => !name.startsWith('.'))
      .sort();
  } catch (error) {
    problems.push(`${folder}: cannot be read (${describeFileError(error)})`);
    return [];
  }
}

function describeFileError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : String(error);
}
