import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { TutorialImportStore, TutorialUserSource } from '../flows/ports.ts';
import { PostgresTutorialImportStore } from '../storage/postgres/tutorial-import-store.ts';
import { PostgresTutorialUserSource } from '../storage/postgres/tutorial-user-source.ts';
import { openMigratedDatabase } from './database.ts';

export interface TutorialImport {
  readonly source: TutorialUserSource;
  readonly store: TutorialImportStore;
  close(): Promise<void>;
}

/**
 * The tutorial's database at `fromUrl` (read only) and Latchkey's own (DATABASE_URL, or the embedded one in
 * DATA_DIR), migrated first so the map table exists.
 */
export async function openTutorialImport(options: {
  readonly config: Pick<Config, 'database' | 'dataDir'>;
  readonly logger: Logger;
  readonly fromUrl: string;
}): Promise<TutorialImport> {
  const source = await PostgresTutorialUserSource.open(options.fromUrl);
  try {
    const database = await openMigratedDatabase({ config: options.config, logger: options.logger });
    return {
      source,
      store: new PostgresTutorialImportStore(database.db),
      async close() {
        try {
          await source.close();
        } finally {
          await database.close();
        }
      },
    };
  } catch (error) {
    await source.close();
    throw error;
  }
}
