import { ConfigError, type Config } from '../config.ts';
import { EmailTemplateFilesError, loadEmailTemplateFiles } from '../email/template-files.ts';
import type { EmailTemplateFiles } from '../email/templates/index.ts';

/**
 * EMAIL_TEMPLATES_DIR read and checked once, before anything starts; undefined when unset. A bad folder is a bad
 * configuration: it throws ConfigError listing every problem (`file:line: …`), as a bad variable does.
 */
export function loadConfiguredEmailTemplates(config: Config): EmailTemplateFiles | undefined {
  if (config.email.templatesDir === undefined) return undefined;
  try {
    return loadEmailTemplateFiles(config.email.templatesDir);
  } catch (error) {
    if (error instanceof EmailTemplateFilesError)
      throw new ConfigError(error.problems.map((problem) => `EMAIL_TEMPLATES_DIR: ${problem}`));
    throw error;
  }
}
