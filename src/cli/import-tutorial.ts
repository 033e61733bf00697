// `npm run admin -- import-tutorial --from postgresql://…`:
// imports the FastAPI tutorial's users into DATABASE_URL (or the embedded database in DATA_DIR).
import { parseArgs } from 'node:util';
import { openTutorialImport } from '../composition/tutorial-import.ts';
import { ConfigError, loadConfig } from '../config.ts';
import {
  importTutorialUsers,
  type TutorialImportEvent,
  type TutorialImportSummary,
} from '../flows/import-tutorial-users.ts';
import type { TutorialImportStore } from '../flows/ports.ts';
import { createLogger } from '../logger.ts';

/** Where the command writes: process.stdout/stderr, or a test's collectors. */
export interface CommandOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const usage = `usage: import-tutorial --from <postgresql://… of the tutorial's database> [--dry-run] [--csv]

Imports the FastAPI tutorial's users into Latchkey's database (DATABASE_URL, or the embedded one in DATA_DIR).
  --dry-run  check every row and report what would happen; write nothing
  --csv      print the map tutorial_id,user_id,imported_at (every user imported so far) on stdout;
             the report then goes to stderr
`;

const mappingPageSize = 1000;

/** Runs the command; resolves to its exit code (0 done, 1 failed, 2 bad arguments). */
export async function importTutorialCommand(args: string[], io: CommandOutput): Promise<number> {
  let options: { from: string | undefined; dryRun: boolean; csv: boolean };
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      io.stdout.write(usage);
      return 0;
    }
    options = { from: values.from, dryRun: values['dry-run'], csv: values.csv };
  } catch (error) {
    io.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (options.from === undefined || !/^postgres(ql)?:\/\//.test(options.from)) {
    io.stderr.write(`--from needs the tutorial database's postgresql:// URL\n${usage}`);
    return 2;
  }

  const report = options.csv ? io.stderr : io.stdout;
  try {
    const config = loadConfig();
    const logger = createLogger({ level: 'warn', destination: { write: (line) => io.stderr.write(line) } });
    const tutorialImport = await openTutorialImport({ config, logger, fromUrl: options.from });
    try {
      const summary = await importTutorialUsers({
        source: tutorialImport.source,
        store: tutorialImport.store,
        dryRun: options.dryRun,
        now: () => new Date(),
        onEvent: (event) => {
          const line = describeEvent(event, options.dryRun);
          if (line !== null) report.write(`${line}\n`);
        },
      });
      report.write(`${describeSummary(summary)}\n`);
      if (options.csv) await writeMappingCsv(tutorialImport.store, io.stdout);
    } finally {
      await tutorialImport.close();
    }
    return 0;
  } catch (error) {
    // Never the URL: it may carry the tutorial database's password.
    const message = error instanceof ConfigError ? error.message : describeFailure(error);
    io.stderr.write(`import-tutorial failed: ${message}\n`);
    return 1;
  }
}

function describeEvent(event: TutorialImportEvent, dryRun: boolean): string | null {
  const who = `tutorial user ${event.tutorialId} <${event.email}>`;
  if (event.kind === 'imported') return dryRun ? `would import ${who}` : null;
  const others =
    event.collidesWith === undefined
      ? ''
      : ` (same address as tutorial user ${event.collidesWith.join(', ')})`;
  return `skipped ${who}: ${event.reason}${others}`;
}

export function describeSummary(summary: TutorialImportSummary): string {
  const skipped = Object.values(summary.skipped).reduce((sum, count) => sum + count, 0);
  const reasons = Object.entries(summary.skipped)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const verb = summary.dryRun ? 'dry run, nothing written: would import' : 'imported';
  return `${verb} ${summary.imported}, already imported ${summary.alreadyImported}, skipped ${skipped} (${reasons}), of ${summary.read} tutorial users`;
}

async function writeMappingCsv(store: TutorialImportStore, out: CommandOutput['stdout']): Promise<void> {
  out.write('tutorial_id,user_id,imported_at\n');
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = await store.listTutorialUserMappings(after, mappingPageSize);
    for (const mapping of page) {
      out.write(`${mapping.tutorialId},${mapping.userId ?? ''},${mapping.importedAt.toISOString()}\n`);
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < mappingPageSize) return;
    after = last.tutorialId;
  }
}

/**
 * The driver's own message: a failed query's wrapper also lists its parameters, which may be password hashes.
 */
function describeFailure(error: unknown): string {
  let innermost = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const cause = (innermost as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    innermost = cause;
  }
  if (!(innermost instanceof Error)) return String(innermost);
  const code = (innermost as { code?: unknown }).code;
  return typeof code === 'string' ? `${innermost.message} (${code})` : innermost.message;
}
