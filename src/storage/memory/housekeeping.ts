import type { DeletedRecordCounts, ExpiredRecordCutoffs, ExpiredRecordsStore } from '../../flows/ports.ts';
import type { WebhookTargets } from '../../flows/webhooks.ts';
import { MemoryAuditTrail } from './audit-trail.ts';
import type { MemoryDatabase } from './database.ts';
import type { MemorySessionStore } from './session-store.ts';

/**
 * The clean-up on a MemoryDatabase and its sessions, deleting what the PostgreSQL one deletes; with webhook
 * targets, every account removed queues its user.deleted.
 */
export function createMemoryExpiredRecordsStore(
  database: MemoryDatabase,
  sessions: MemorySessionStore,
  webhooks?: WebhookTargets,
): ExpiredRecordsStore {
  return { deleteExpiredRecords: (cutoffs) => deleteExpiredRecords(database, sessions, cutoffs, webhooks) };
}

async function deleteExpiredRecords(
  database: MemoryDatabase,
  sessions: MemorySessionStore,
  cutoffs: ExpiredRecordCutoffs,
  webhooks: WebhookTargets | undefined,
): Promise<DeletedRecordCounts> {
  const accounts = await deleteDeletedAccounts(database, sessions, cutoffs, webhooks);
  const tokensBefore = cutoffs.tokensBefore.getTime();
  let tokens = 0;
  for (const token of database.tokens.rows()) {
    const ended =
      token.expiresAt.getTime() < tokensBefore ||
      (token.consumedAt !== null && token.consumedAt.getTime() < tokensBefore);
    if (ended && database.tokens.delete(token.tokenHash, undefined)) tokens += 1;
  }
  const expiredSessions = sessions.deleteSessionsExpiredBefore(cutoffs.sessionsBefore);
  // Only finished mail: queued or leased entries are promises not yet kept.
  const records = database.outbox.records;
  const kept = records.filter(
    (record) =>
      (record.status !== 'sent' && record.status !== 'abandoned') ||
      (record.sentAt ?? record.createdAt).getTime() >= cutoffs.finishedEmailsBefore.getTime(),
  );
  const emails = records.length - kept.length;
  records.splice(0, records.length, ...kept);
  let auditEvents = 0;
  for (const event of database.auditEvents.rows()) {
    if (event.occurredAt < cutoffs.auditEventsBefore && database.auditEvents.delete(event.id, undefined)) {
      auditEvents += 1;
    }
  }
  let webhookDeliveries = 0;
  for (const delivery of database.webhookDeliveries.rows()) {
    const finished = delivery.status === 'delivered' || delivery.status === 'abandoned';
    if (
      finished &&
      delivery.createdAt < cutoffs.finishedWebhookDeliveriesBefore &&
      database.webhookDeliveries.delete(delivery.id, undefined)
    ) {
      webhookDeliveries += 1;
    }
  }
  return { tokens, sessions: expiredSessions, emails, accounts, auditEvents, webhookDeliveries };
}

/** Removes the accounts deleted before `before`, their tokens, sessions and queued mail, as the cascade does. */
async function deleteDeletedAccounts(
  database: MemoryDatabase,
  sessions: MemorySessionStore,
  cutoffs: ExpiredRecordCutoffs,
  webhooks: WebhookTargets | undefined,
): Promise<number> {
  let accounts = 0;
  for (const user of database.users.rows()) {
    if (user.deletedAt === null || user.deletedAt.getTime() >= cutoffs.accountsDeletedBefore.getTime())
      continue;
    database.users.delete(user.emailKey, undefined);
    await new MemoryAuditTrail(database, undefined, webhooks).appendAuditEvent({
      event: 'account_deleted',
      outcome: 'success',
      userId: user.id,
      occurredAt: cutoffs.passAt,
      ip: null,
      userAgent: null,
      actor: 'system',
      requestId: null,
    });
    for (const token of database.tokens.rows()) {
      if (token.userId === user.id) database.tokens.delete(token.tokenHash, undefined);
    }
    await sessions.deleteUserSessions(user.id);
    const records = database.outbox.records;
    const kept = records.filter((record) => record.status !== 'queued' || record.message.to !== user.email);
    records.splice(0, records.length, ...kept);
    accounts += 1;
  }
  return accounts;
}
