import type { AdminContext } from './admin-context.ts';
import { decodeCursor, defaultPageLimit, encodeCursor } from './admin-paging.ts';
import { recordAuditEvent } from './audit.ts';
import type { WebhookDeliverySummary, WebhookListStatus } from './webhooks.ts';

/** One delivery as an operator sees it: the endpoint's host (its path or query may hold the receiver's secret). */
export interface WebhookDeliveryView extends Omit<WebhookDeliverySummary, 'endpointUrl'> {
  readonly endpointHost: string;
}

/** Webhook deliveries (waiting, delivered or given up on), oldest first, a page at a time. */
export async function listWebhookDeliveries(
  context: AdminContext,
  query: { readonly status?: WebhookListStatus; readonly cursor?: string; readonly limit?: number },
): Promise<{ readonly deliveries: readonly WebhookDeliveryView[]; readonly nextCursor: string | null }> {
  const page = await context.webhookDeliveries.listWebhookDeliveries({
    status: query.status ?? null,
    after: decodeCursor(query.cursor),
    limit: query.limit ?? defaultPageLimit,
  });
  await recordAuditEvent(
    context.account.audit,
    { event: 'admin_webhooks_view', outcome: 'success', userId: null },
    context.account.clock.now(),
  );
  return {
    deliveries: page.rows.map(({ endpointUrl, ...delivery }) => ({
      ...delivery,
      endpointHost: hostOf(endpointUrl),
    })),
    nextCursor: encodeCursor(page.next),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}
