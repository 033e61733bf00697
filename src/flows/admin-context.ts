import type { AccountContext } from './context.ts';
import type { AdminKeyStore, OutboxBrowser, UserDirectory } from './ports.ts';
import type { WebhookDeliveryBrowser } from './webhooks.ts';

/** What the operators' flows (the admin API and CLI) run on: the account flows' context and the read side. */
export interface AdminContext {
  readonly account: AccountContext;
  readonly adminKeys: AdminKeyStore;
  readonly directory: UserDirectory;
  readonly outbox: OutboxBrowser;
  readonly webhookDeliveries: WebhookDeliveryBrowser;
}
