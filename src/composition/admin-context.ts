import type { AdminContext } from '../flows/admin-context.ts';
import type { AccountContext } from '../flows/context.ts';
import { PostgresAdminKeyStore } from '../storage/postgres/admin-key-store.ts';
import type { Database } from '../storage/postgres/database.ts';
import { PostgresOutboxBrowser } from '../storage/postgres/outbox-browser.ts';
import { PostgresUserDirectory } from '../storage/postgres/user-directory.ts';
import { PostgresWebhookQueue } from '../storage/postgres/webhook-deliveries.ts';
import { PostgresWebhookEndpointStore } from '../storage/postgres/webhook-endpoints.ts';
import type { Config } from '../config.ts';
import type { SecretBox } from '../security/secret-box.ts';

/** What the admin API and the admin CLI run on: the account flows' context and the operators' read side. */
export function createAdminContext(
  database: Database,
  account: AccountContext,
  webhooks: { readonly config: Config['webhooks']; readonly secretBox: SecretBox },
): AdminContext {
  return {
    account,
    adminKeys: new PostgresAdminKeyStore(database.db),
    directory: new PostgresUserDirectory(database.db),
    outbox: new PostgresOutboxBrowser(database.db),
    webhookDeliveries: new PostgresWebhookQueue(database.db),
    webhookEndpoints: new PostgresWebhookEndpointStore(database.db, webhooks.secretBox),
    webhookSettings: {
      envUrls: webhooks.config.urls,
      allowPrivateTargets: webhooks.config.allowPrivateTargets,
    },
  };
}
