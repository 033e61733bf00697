import type { AccountContext } from './context.ts';
import type { AdminKeyStore, OutboxBrowser, UserDirectory } from './ports.ts';
import type { WebhookDeliveryBrowser, WebhookEndpointStore } from './webhooks.ts';

/** What the operators' flows (the admin API and CLI) run on: the account flows' context and the read side. */
export interface AdminContext {
  readonly account: AccountContext;
  readonly adminKeys: AdminKeyStore;
  readonly directory: UserDirectory;
  readonly outbox: OutboxBrowser;
  readonly webhookDeliveries: WebhookDeliveryBrowser;
  readonly webhookEndpoints: WebhookEndpointStore;
  /** WEBHOOK_URLS (listed read-only) and WEBHOOK_ALLOW_PRIVATE (whether a new URL may name a private address). */
  readonly webhookSettings: { readonly envUrls: readonly string[]; readonly allowPrivateTargets: boolean };
}
