import type { EmailMessage } from '../../flows/model.ts';
import { renderAlreadyRegisteredEmail } from './already-registered.ts';
import type { RenderedEmail, TemplateOptions } from './layout.ts';
import { renderPasswordChangedEmail } from './password-changed.ts';
import { renderPasswordResetEmail } from './password-reset.ts';
import { renderVerifyEmail } from './verify-email.ts';

export type { RenderedEmail, TemplateOptions } from './layout.ts';

/** Pure: the same message always renders the same email. Throws if a link is not an absolute http(s) URL. */
export function renderEmail(message: EmailMessage, options: TemplateOptions): RenderedEmail {
  switch (message.template) {
    case 'verify_email':
      return renderVerifyEmail(message.to, message.params, options);
    case 'already_registered':
      return renderAlreadyRegisteredEmail(message.to, message.params, options);
    case 'password_reset':
      return renderPasswordResetEmail(message.to, message.params, options);
    case 'password_changed':
      return renderPasswordChangedEmail(message.to, message.params, options);
    default:
      return assertUnknownTemplate(message);
  }
}

function assertUnknownTemplate(message: never): never {
  // Reachable only with a row written by a newer version; the dispatcher abandons it.
  throw new Error(`unknown email template "${(message as { template?: unknown }).template}"`);
}
