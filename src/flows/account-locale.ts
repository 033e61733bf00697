import type { AccountContext } from './context.ts';
import { FlowError } from './errors.ts';
import type { Locale } from '../security/locale.ts';

/** The language an account's pages are shown in: its own, or `defaultLocale` when it has none (older accounts). */
export async function findAccountLocale<Fallback extends Locale | null>(
  context: AccountContext,
  userId: string,
  defaultLocale: Fallback,
): Promise<Locale | Fallback> {
  const user = await context.users.findUserById(userId);
  return user?.locale ?? defaultLocale;
}

/**
 * Makes `locale` the language of the account's pages and of every email queued for it from now on (emails already
 * queued keep the language they were written in).
 */
export async function changeAccountLocale(
  context: AccountContext,
  userId: string,
  locale: Locale,
): Promise<void> {
  if (!(await context.users.setUserLocale(userId, locale))) throw new FlowError('not_authenticated');
}
