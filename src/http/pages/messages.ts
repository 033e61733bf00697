// Every word a hosted page shows a person, keyed. A second language is a second catalogue of the same keys
// (messages-de.ts); the pages never hold prose of their own.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Locale } from '../../security/locale.ts';
import { german } from './messages-de.ts';

/**
 * The page being answered: its language, whether the person chose it (`?lang` or the switcher's cookie, which
 * win over the account's own), and where the language switcher's links point.
 */
interface PageRequest {
  locale: Locale;
  readonly chosen: boolean;
  readonly address: () => PageAddress;
}

/** The page a language switcher link opens again: a path and its query, without `lang`. */
export interface PageAddress {
  readonly path: string;
  readonly query: URLSearchParams;
}

const pageLocales = new AsyncLocalStorage<PageRequest>();

/** Runs `next` (the rest of a request) with `locale` as its page language. */
export function runInPageLocale(
  locale: Locale,
  next: () => void,
  request: { readonly chosen?: boolean; readonly address?: () => PageAddress } = {},
): void {
  pageLocales.run(
    {
      locale,
      chosen: request.chosen ?? false,
      address: request.address ?? (() => ({ path: '/', query: new URLSearchParams() })),
    },
    next,
  );
}

/** The language this answer must be in from now on (a form that names its language, a changed account). */
export function switchPageLocale(locale: Locale): void {
  const current = pageLocales.getStore();
  if (current !== undefined) current.locale = locale;
}

/**
 * The signed-in account's own language: it wins over Accept-Language and DEFAULT_LOCALE, not over a language the
 * person picked for this browser (`?lang`, the switcher).
 */
export function adoptAccountLocale(locale: Locale): void {
  const current = pageLocales.getStore();
  if (current !== undefined && !current.chosen) current.locale = locale;
}

/** The language of every page: `<html lang>` and `Content-Language` both come from here. */
export function pageLanguage(): Locale {
  return pageLocales.getStore()?.locale ?? 'en';
}

/** Where the language switcher sends the person: this page again, its query kept, in `locale`. */
export function pageAddressIn(locale: Locale): string {
  const address = pageLocales.getStore()?.address() ?? { path: '/', query: new URLSearchParams() };
  const query = new URLSearchParams(address.query);
  query.delete('lang');
  query.set('lang', locale);
  return `${address.path}?${query.toString()}`;
}

export const english = {
  'site.title': '{title} · {product}',
  'site.skip': 'Skip to the form',
  'site.footer': 'Secured by {product}',
  'site.languages': 'Language',

  'field.email': 'Email address',
  'field.password': 'Password',
  'field.newPassword': 'New password',
  'field.currentPassword': 'Current password',
  'field.newEmail': 'New email address',
  'field.passwordHint':
    'At least {minimum} characters. A long phrase is easy to remember; common passwords and your email address are refused.',
  'form.errorSummary': 'There is a problem',

  'signIn.title': 'Sign in',
  'signIn.heading': 'Sign in to {product}',
  'signIn.submit': 'Sign in',
  'signIn.forgot': 'Forgot your password?',
  'signIn.noAccount': 'New here?',
  'signIn.createAccount': 'Create an account',
  'signIn.signedOut': 'You are signed out.',
  'signIn.passwordChanged': 'Your password is changed. Sign in with the new one.',

  'signUp.title': 'Create an account',
  'signUp.heading': 'Create your {product} account',
  'signUp.submit': 'Create account',
  'signUp.haveAccount': 'Already have an account?',
  'signUp.signIn': 'Sign in',
  'signUp.sentTitle': 'Check your email',
  'signUp.sent':
    'We sent a link to {email}. Open it to confirm your address, then sign in. If the address already has an account, the email tells you how to get back into it.',
  'signUp.continue': 'Continue to sign in',

  'forgot.title': 'Reset your password',
  'forgot.intro': 'Enter the address of your account and we will email you a link to choose a new password.',
  'forgot.submit': 'Email me a reset link',
  'forgot.sentTitle': 'Check your email',
  'forgot.sent': 'If {email} has an account, a reset link is on its way. It works for one hour.',
  'forgot.sentAny': 'If the address has an account, a reset link is on its way. It works for one hour.',
  'forgot.back': 'Back to sign in',

  'account.title': 'Your account',
  'account.heading': 'Your {product} account',
  'account.address': 'Signed in as',
  'account.verified': 'Verified',
  'account.unverified': 'Not verified yet: open the link we emailed you',
  'account.sessions': 'Where you are signed in',
  'account.sessionThis': 'This device',
  'account.sessionStarted': 'Signed in {when}',
  'account.sessionLastSeen': 'last active {when}',
  'account.sessionFrom': 'from {ip}',
  'account.unknownDevice': 'Unknown device',
  'account.deviceOn': '{browser} on {system}',
  'account.today': 'today',
  'account.timeUtc': '{day} {time} UTC',
  'account.endSession': 'Sign out',
  'account.endSessionLabel': 'Sign out {device}, signed in {when}',
  'account.endOthers': 'Sign out everywhere else',
  'account.noOthers': 'You are signed in on this device only.',
  'account.changePassword': 'Change your password',
  'account.changePasswordNote': 'Every other device will be signed out.',
  'account.changePasswordSubmit': 'Change password',
  'account.changeEmail': 'Change your email address',
  'account.changeEmailNote':
    'We send a link to the new address; the change happens when you open it. Your current address is told too.',
  'account.changeEmailSubmit': 'Send confirmation link',
  'account.delete': 'Delete your account',
  'account.deleteNote':
    'You are signed out everywhere at once. We email a link that brings the account back for a while.',
  'account.deleteSubmit': 'Delete my account',
  'account.signOut': 'Sign out',
  'account.notice.sessionEnded': 'That device is signed out.',
  'account.notice.othersEnded': 'Every other device is signed out.',
  'account.notice.passwordChanged': 'Your password is changed; every other device is signed out.',
  'account.notice.emailChangeSent':
    'If the new address can be used, a confirmation link is on its way to it. Your current address has been told.',
  'account.notice.localeChanged': 'Saved: your pages and emails are in English from now on.',
  'account.language': 'Language',
  'account.languageNote': 'The pages and the emails of your account use this language.',
  'account.languageSubmit': 'Save language',
  'account.justNow': 'just now',
  'field.language': 'Language of your account',
  'error.localeInvalid': 'Choose one of the languages in the list.',

  'link.invalidTitle': 'Link not valid',
  'link.continue': 'Continue',

  'verify.title': 'Confirm your email address',
  'verify.intro': 'Press the button to confirm this address for your account.',
  'verify.submit': 'Confirm my email address',
  'verify.invalid':
    'This verification link is invalid, expired or already used. Signing in with your password sends a new one; if you have no working password, reset it.',
  'verify.doneTitle': 'Email verified',
  'verify.done': 'Your email address is confirmed. You can now sign in.',

  'reset.title': 'Choose a new password',
  'reset.note': 'Every device signed in to your account will be signed out.',
  'reset.submit': 'Set new password',
  'reset.invalid': 'This reset link is invalid, expired or already used. Ask for a new one:',
  'reset.doneTitle': 'Password changed',
  'reset.done': 'Your password has been reset. You can now sign in with it.',

  'emailChange.confirmTitle': 'Confirm your new email address',
  'emailChange.confirmIntro':
    'Press the button to move your account to this address. Every device signed in to it will be signed out.',
  'emailChange.confirmSubmit': 'Confirm the new address',
  'emailChange.confirmInvalid':
    'This link is invalid, expired or already used. Sign in with your current address and ask for the change again.',
  'emailChange.changedTitle': 'Email address changed',
  'emailChange.changed': 'Your account now uses this address. Sign in with it from now on.',
  'emailChange.cancelTitle': 'Stop the email address change',
  'emailChange.cancelIntro':
    'Press the button to stop the change. If the change was already confirmed, your old address comes back, every device is signed out, and you get an email to set a new password.',
  'emailChange.cancelSubmit': 'Stop the change',
  'emailChange.cancelInvalid':
    'This link is invalid, expired or already used. If you cannot sign in, reset your password.',
  'emailChange.voidedTitle': 'Change stopped',
  'emailChange.voided': 'The email address of your account stays as it was.',
  'emailChange.restoredTitle': 'Account restored',
  'emailChange.restored':
    'Your old address is back and everyone was signed out. We sent it a link to set a new password.',

  'restore.title': 'Restore your account',
  'restore.intro': 'Press the button to bring your account back as it was, with its password.',
  'restore.submit': 'Restore my account',
  'restore.invalid':
    'This restore link is invalid, expired or already used. Once the grace period is over, the address can be registered again.',
  'restore.doneTitle': 'Account restored',
  'restore.done': 'Your account is back. You can sign in with your password.',
  'deleted.title': 'Account deleted',
  'deleted.body':
    'Your account is deleted and you are signed out everywhere. We sent a restore link to its address.',

  'error.title': 'Something went wrong',
  'error.crossSite':
    'This form was sent from another site, so it was refused. Open this page directly and try again.',
  'error.emailMissing': 'Enter your email address.',
  'error.emailInvalid': 'Enter an email address like name@example.com.',
  'error.passwordMissing': 'Enter your password.',
  'error.newPasswordMissing': 'Choose a password.',
  'error.currentPasswordMissing': 'Enter your current password.',
  'error.invalid_credentials': 'The email address or password is not right.',
  'error.email_not_verified':
    'Confirm your email address first: we have just emailed you a new link. Open it, then sign in.',
  'error.account_disabled': 'This account is switched off. Contact the people who run this service.',
  'error.invalid_current_password': 'Your current password is not right.',
  'error.rate_limited': 'Too many attempts. Try again in {minutes} min.',
  'error.password_too_short': 'Use at least {minimum} characters.',
  'error.password_too_long': 'Use at most 128 characters.',
  'error.password_contains_email': 'Choose a password that does not contain your email address.',
  'error.password_too_common':
    'This password is too common, so it is easy to guess. Choose a longer or less common one.',
  'error.invalid_token': 'This link is invalid, expired or already used.',
  'error.email_taken': 'This address belongs to another account now.',
  'error.not_authenticated': 'You are signed out. Sign in again.',
  'error.other': 'We could not do that. Try again.',
} as const;

export type MessageKey = keyof typeof english;

/** One page language's words: every key of the English catalogue, no other. */
export type MessageCatalogue = Readonly<Record<MessageKey, string>>;

export const catalogues: Readonly<Record<Locale, MessageCatalogue>> = { en: english, de: german };

/** The text of `key` in the page language, `{name}` placeholders filled (the caller escapes for HTML). */
export function message(key: MessageKey, values: Readonly<Record<string, string | number>> = {}): string {
  return catalogues[pageLanguage()][key].replace(/\{(\w+)\}/g, (placeholder, name: string) =>
    name in values ? String(values[name]) : placeholder,
  );
}

/** Whether `key` names a message (for codes that may or may not have words of their own). */
export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(english, key);
}
