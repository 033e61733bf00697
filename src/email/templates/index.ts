import type { EmailMessage } from '../../flows/model.ts';
import { isLocale, type Locale } from '../../security/locale.ts';
import { describeAccountDeletedEmail } from './account-deleted.ts';
import { describeAlreadyRegisteredEmail } from './already-registered.ts';
import { describeTemplateValues, renderTemplateSource, type EmailTemplatePart } from './files.ts';
import {
  addLanguageToLink,
  renderLinkEmail,
  type LinkEmailContent,
  type RenderedEmail,
  type TemplateOptions,
} from './layout.ts';
import {
  describeEmailChangeAttemptedEmail,
  describeEmailChangeConfirmEmail,
  describeEmailChangeNoticeEmail,
} from './email-change.ts';
import { describePasswordChangedEmail } from './password-changed.ts';
import { describePasswordResetEmail } from './password-reset.ts';
import { describeVerifyEmail } from './verify-email.ts';

export type { RenderedEmail, TemplateOptions } from './layout.ts';
export type { EmailTemplateFiles } from './files.ts';

/**
 * Pure: the same message always renders the same email, in the message's locale (DEFAULT_LOCALE when it was
 * queued without one), each part from the operator's file for that locale and template when there is one, else
 * built in. Throws if a link is not an absolute http(s) URL.
 */
export function renderEmail(message: EmailMessage, options: TemplateOptions): RenderedEmail {
  const locale = isLocale(message.locale) ? message.locale : (options.defaultLocale ?? 'en');
  const content = describeEmail(message, options.productName, locale);
  const builtIn = renderLinkEmail(message.to, content, options, locale);
  const sources = options.templateFiles?.[locale]?.[message.template];
  if (sources === undefined) return builtIn;
  const values = describeTemplateValues(
    message,
    options.productName,
    locale,
    content.url === null ? null : addLanguageToLink(content.url, locale),
  );
  const renderPart = (part: EmailTemplatePart): string => {
    const source = sources[part];
    return source === undefined ? builtIn[part] : renderTemplateSource(source, part, values);
  };
  return { subject: renderPart('subject'), text: renderPart('text'), html: renderPart('html') };
}

/** What each template says in `locale`; every one is an email built around one link. */
function describeEmail(message: EmailMessage, productName: string, locale: Locale): LinkEmailContent {
  switch (message.template) {
    case 'verify_email':
      return describeVerifyEmail[locale](message, productName);
    case 'already_registered':
      return describeAlreadyRegisteredEmail[locale](message, productName);
    case 'password_reset':
      return describePasswordResetEmail[locale](message, productName);
    case 'password_changed':
      return describePasswordChangedEmail[locale](message, productName);
    case 'email_change_confirm':
      return describeEmailChangeConfirmEmail[locale](message, productName);
    case 'email_change_notice':
      return describeEmailChangeNoticeEmail[locale](message, productName);
    case 'email_change_attempted':
      return describeEmailChangeAttemptedEmail[locale](message, productName);
    case 'account_deleted':
      return describeAccountDeletedEmail[locale](message, productName);
    default:
      return assertUnknownTemplate(message);
  }
}

function assertUnknownTemplate(message: never): never {
  // Reachable only with a row written by a newer version; the dispatcher abandons it.
  throw new Error(`unknown email template "${(message as { template?: unknown }).template}"`);
}
