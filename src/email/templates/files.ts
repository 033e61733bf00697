// An operator's email templates (EMAIL_TEMPLATES_DIR): Mustache sources checked once at start-up against the
// variables each email offers, and rendered at send time. Pure: the folder is read by src/email/template-files.ts.
import Mustache from 'mustache';
import type { EmailMessage, EmailTemplateName } from '../../flows/model.ts';
import { escapeHtml } from '../../security/html-escape.ts';
import type { Locale } from '../../security/locale.ts';
import { describeLinkValidity, type RenderedEmail } from './layout.ts';

/** The three parts of an email; each may be given by a file or left to the built-in template. */
export type EmailTemplatePart = keyof RenderedEmail;

/** The file name ending of each part: `<locale>/<template>.subject.txt`, `.text.txt`, `.html`. */
export const emailTemplatePartSuffixes: Readonly<Record<EmailTemplatePart, string>> = {
  subject: '.subject.txt',
  text: '.text.txt',
  html: '.html',
};

/** Checked sources, by locale, template and part; a missing entry means the built-in part. */
export type EmailTemplateFiles = Readonly<
  Partial<Record<Locale, Readonly<Partial<Record<EmailTemplateName, EmailTemplateSources>>>>>
>;
export type EmailTemplateSources = Readonly<Partial<Record<EmailTemplatePart, string>>>;

/** Offered by every email. */
const everyEmailVariables = ['product_name', 'email', 'locale'] as const;
/** Offered by the emails whose link carries a token that expires. */
const expiringLinkVariables = ['link', 'link_validity', 'expires_at'] as const;

/**
 * The variables each template offers, the contract with the operator's files (docs/email-templates.md lists
 * them too): a file naming any other variable stops start-up, so a typo never sends an email with a hole in it.
 */
export const emailTemplateVariables: Readonly<Record<EmailTemplateName, readonly string[]>> = {
  verify_email: [...everyEmailVariables, ...expiringLinkVariables],
  already_registered: [...everyEmailVariables, ...expiringLinkVariables],
  password_reset: [...everyEmailVariables, ...expiringLinkVariables],
  password_changed: [...everyEmailVariables, 'link'],
  email_change_confirm: [...everyEmailVariables, ...expiringLinkVariables],
  email_change_notice: [...everyEmailVariables, ...expiringLinkVariables, 'changed'],
  email_change_attempted: [...everyEmailVariables, 'link'],
  account_deleted: [...everyEmailVariables, ...expiringLinkVariables],
};

export const emailTemplateNames = Object.keys(emailTemplateVariables) as EmailTemplateName[];

export function isEmailTemplateName(value: string): value is EmailTemplateName {
  return Object.hasOwn(emailTemplateVariables, value);
}

/** One problem in one source, at a 1-based line. */
export interface TemplateSourceProblem {
  readonly line: number;
  readonly message: string;
}

type TemplateSpans = ReturnType<typeof Mustache.parse>;

/**
 * Every problem of one source: a syntax error, a variable the template does not offer, a partial (there are
 * none to include), and in HTML an unescaped value (`{{{x}}}`, `{{&x}}`), since every value there must arrive
 * as text. A subject must be one line: it becomes a header.
 */
export function checkTemplateSource(
  source: string,
  template: EmailTemplateName,
  part: EmailTemplatePart,
): TemplateSourceProblem[] {
  const problems: TemplateSourceProblem[] = [];
  if (part === 'subject') {
    const subject = source.trim();
    if (subject === '') problems.push({ line: 1, message: 'the subject is empty' });
    const lineBreak = subject.search(/[\r\n]/);
    if (lineBreak !== -1) {
      const secondLine = source.indexOf(subject) + lineBreak + 1;
      problems.push({
        line: lineOfIndex(source, secondLine),
        message: 'a subject is one line (it becomes the Subject header)',
      });
    }
  }
  let spans: TemplateSpans;
  try {
    spans = Mustache.parse(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /\s+at (\d+)$/.exec(message);
    const reason = position === null ? message : message.slice(0, position.index);
    problems.push({
      line: lineOfIndex(source, locateSyntaxError(source, reason, Number(position?.[1] ?? 0))),
      message: `syntax error: ${reason}`,
    });
    return problems;
  }
  const offered = emailTemplateVariables[template];
  const visit = (list: TemplateSpans): void => {
    for (const span of list) {
      const [type, name, start] = span;
      const line = lineOfIndex(source, start);
      if (type === '>') {
        problems.push({ line, message: `partials are not supported: {{> ${name}}}` });
      } else if (type === 'name' || type === '&' || type === '#' || type === '^') {
        if (!offered.includes(name))
          problems.push({
            line,
            message: `unknown variable "${name}"; ${template} offers ${offered.join(', ')}`,
          });
        if (type === '&' && part === 'html')
          problems.push({
            line,
            message: `"${name}" must be escaped in HTML: write {{${name}}}, not {{{${name}}}} or {{&${name}}}`,
          });
        if (type === '#' || type === '^') visit(span[4] as TemplateSpans);
      }
    }
  };
  visit(spans);
  return problems;
}

/**
 * Where to point for a syntax error. Mustache reports an unclosed tag or section where it stopped reading (the
 * end of the file); the operator needs the tag that was opened, so point at the last one before that.
 */
function locateSyntaxError(source: string, reason: string, index: number): number {
  const before = source.slice(0, index);
  if (reason === 'Unclosed tag') {
    const opened = before.lastIndexOf('{{');
    return opened === -1 ? index : opened;
  }
  const section = /^Unclosed section "(.*)"$/.exec(reason)?.[1];
  if (section !== undefined) {
    const openings = [...before.matchAll(/\{\{\s*[#^]\s*([^}]*?)\s*\}\}/g)].filter(
      (opening) => opening[1] === section,
    );
    return openings.at(-1)?.index ?? index;
  }
  return index;
}

function lineOfIndex(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

/** What a template file can say about one message: every value as text, `changed` as a section flag. */
export function describeTemplateValues(
  message: EmailMessage,
  productName: string,
  locale: Locale,
  link: string | null,
): Record<string, string | boolean> {
  const params = message.params as { readonly expiresAt?: string; readonly changed?: boolean };
  return {
    product_name: productName,
    email: message.to,
    locale,
    // Empty when there is none (an immediate deletion), so `{{#link}}…{{/link}}` leaves the part out.
    link: link ?? '',
    link_validity: describeLinkValidity(params.expiresAt, locale),
    expires_at: params.expiresAt ?? '',
    changed: params.changed === true,
  };
}

/**
 * One part from its file. HTML: every value escaped. Text and subject: values as they are (they are not
 * HTML), but the subject is kept to one line, whatever a value holds, so no value can add a mail header.
 */
export function renderTemplateSource(
  source: string,
  part: EmailTemplatePart,
  values: Record<string, string | boolean>,
): string {
  const escape = part === 'html' ? (value: unknown): string => escapeHtml(String(value)) : String;
  const rendered = Mustache.render(source, values, {}, { escape });
  return part === 'subject' ? rendered.replace(/\s*[\r\n]+\s*/g, ' ').trim() : rendered;
}
