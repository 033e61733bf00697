import type { AccountContext } from './context.ts';
import type { Locale } from '../security/locale.ts';

/** The language an account's pages are shown in: its own, or `defaultLocale` when it has none (older accounts). */
export async function findAccountLocale(
  context: AccountContext,
  userId: string,
  defaultLocale: Locale,
): Promise<Locale> {
  const user = await context.users.findUserById(userId);
  return user?.locale ?? defaultLocale;
}
