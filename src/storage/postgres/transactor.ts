import { localeOfTag, type Locale } from '../../security/locale.ts';
import type { SQL } from 'drizzle-orm';
import { sql } from './drizzle.ts';
import type { AuditRecord } from '../../flows/audit.ts';
import type { User } from '../../flows/model.ts';
import type { TokenEmail, Transactor, TransactionStores } from '../../flows/ports.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import type { Db } from './database.ts';
import { dueNow, newOutboxRow, PostgresEmailOutbox } from './email-outbox.ts';
import { auditEvents, emailOutbox, users, userTokens } from './schema.ts';
import { PostgresAuditTrail } from './audit-trail.ts';
import { PostgresTokenStore } from './token-store.ts';
import { PostgresUserStore } from './user-store.ts';
import { translatePostgresOutages } from './outages.ts';
import type { WebhookTargets } from '../../flows/webhooks.ts';
import { insertWebhookDeliveries } from './webhook-deliveries.ts';

export interface TransactorOptions {
  readonly box: SecretBox;
  readonly messageIdDomain: string;
  /** Told after a commit that queued mail, so the dispatcher sends at once instead of at its next poll. */
  readonly onEmailCommitted?: () => void;
  /** Where the events the audit trail records are sent; `onQueued` is called after the commit. */
  readonly webhooks?: WebhookTargets;
}

export class PostgresTransactor implements Transactor {
  readonly #db: Db;
  readonly #options: TransactorOptions;
  constructor(db: Db, options: TransactorOptions) {
    this.#db = db;
    this.#options = options;
  }

  async runInTransaction<T>(work: (stores: TransactionStores) => Promise<T>): Promise<T> {
    let queuedEmail = false;
    let queuedWebhooks = false;
    const webhooks = this.#options.webhooks;
    const result = await this.#db.transaction(async (tx) =>
      work({
        users: new PostgresUserStore(tx),
        tokens: new PostgresTokenStore(tx),
        outbox: new PostgresEmailOutbox(tx, {
          box: this.#options.box,
          messageIdDomain: this.#options.messageIdDomain,
          onEnqueued: () => {
            queuedEmail = true;
          },
        }),
        audit: new PostgresAuditTrail(
          tx,
          webhooks && {
            urls: webhooks.urls,
            onQueued: () => {
              queuedWebhooks = true;
            },
          },
        ),
      }),
    );
    if (queuedEmail) this.#options.onEmailCommitted?.();
    if (queuedWebhooks) webhooks?.onQueued?.();
    return result;
  }

  async insertUserWithTokenEmail(
    input: { email: string; emailKey: string; passwordHash: string; locale?: Locale | null },
    tokenEmail: TokenEmail,
    audit?: AuditRecord,
  ): Promise<User | null> {
    // One statement is atomic by itself. The token and the email are inserted from the new user's row, so a
    // taken address (no row) inserts neither; the token's foreign key is checked at the end of the statement,
    // when the user exists.
    const result = await this.#db.execute<NewUserRow>(sql`
      with new_user as (
        insert into ${users} (email, email_key, password_hash, locale)
        values (${input.email}, ${input.emailKey}, ${input.passwordHash}, ${input.locale ?? null})
        on conflict (email_key) do nothing
        returning id, email, email_key, password_hash, is_active, is_verified, created_at, locale
      ), new_token as (
        ${this.#insertToken(sql`(select id from new_user)`, tokenEmail)}
      ), new_email as (
        ${this.#insertEmail(tokenEmail, sql`from new_user`)}
      )${audit === undefined ? sql`` : sql`, new_audit as (${insertAuditEvent(audit, sql`(select id from new_user)`)})`}${this.#insertWebhooks(audit, sql`(select id from new_user)`)}
      select id, email, email_key, password_hash, is_active, is_verified, created_at, locale from new_user`);
    const row = result.rows[0];
    if (row === undefined) return null;
    this.#options.onEmailCommitted?.();
    if (audit !== undefined && this.#webhookDeliveries(audit, sql``) !== null)
      this.#options.webhooks?.onQueued?.();
    return {
      id: row.id,
      email: row.email,
      emailKey: row.email_key,
      passwordHash: row.password_hash,
      isActive: row.is_active,
      isVerified: row.is_verified,
      createdAt: new Date(row.created_at),
      deletedAt: null,
      locale: localeOfTag(row.locale) ?? null,
    };
  }

  async issueTokenWithEmail(
    userId: string,
    tokenEmail: TokenEmail,
    options: { readonly replacePrevious: boolean; readonly audit?: AuditRecord },
  ): Promise<void> {
    // The update reads the table as it was before the statement, so it never touches the token inserted beside it.
    const replaced = options.replacePrevious
      ? sql`replaced as (
          update ${userTokens} set consumed_at = now()
          where user_id = ${userId}::uuid and purpose = ${tokenEmail.token.purpose} and consumed_at is null
        ),`
      : sql``;
    const audited =
      options.audit === undefined
        ? sql``
        : sql`new_audit as (${insertAuditEvent(options.audit, sql`${userId}::uuid`)}),`;
    const webhooks =
      options.audit === undefined ? null : this.#webhookDeliveries(options.audit, sql`${userId}::uuid`);
    await this.#db.execute(sql`
      with ${replaced} ${audited} ${webhooks === null ? sql`` : sql`new_webhooks as (${webhooks}),`} new_token as (
        ${this.#insertToken(sql`${userId}::uuid`, tokenEmail)}
      )
      ${this.#insertEmail(tokenEmail, sql``)}`);
    this.#options.onEmailCommitted?.();
    if (webhooks !== null) this.#options.webhooks?.onQueued?.();
  }

  #webhookDeliveries(audit: AuditRecord, userId: SQL): SQL | null {
    return insertWebhookDeliveries(audit, userId, this.#options.webhooks);
  }

  /** `, new_webhooks as (…)`: the deliveries of `audit`, as a further CTE; empty when none are due. */
  #insertWebhooks(audit: AuditRecord | undefined, userId: SQL): SQL {
    const deliveries = audit === undefined ? null : this.#webhookDeliveries(audit, userId);
    return deliveries === null ? sql`` : sql`, new_webhooks as (${deliveries})`;
  }

  /** Inserts the token for the user that `userId` yields (none when it yields no row). */
  #insertToken(userId: SQL, { token }: TokenEmail): SQL {
    return sql`insert into ${userTokens} (token_hash, purpose, user_id, expires_at, email)
      select ${token.tokenHash}, ${token.purpose}, user_id, ${token.expiresAt.toISOString()}::timestamptz,
        ${token.email ?? null}::text
      from (select ${userId} as user_id) as owner where user_id is not null`;
  }

  /** Queues the sealed email, once per row of `source` (`from new_user`), or once when `source` is empty. */
  #insertEmail({ email }: TokenEmail, source: SQL): SQL {
    const row = newOutboxRow(email, {
      box: this.#options.box,
      messageIdDomain: this.#options.messageIdDomain,
    });
    return sql`insert into ${emailOutbox} (id, message_id, recipient, template, payload, next_attempt_at)
      select ${row.id}::uuid, ${row.messageId}, ${row.recipient}, ${row.template}, ${row.payload}, ${dueNow}
      ${source}`;
  }
}
translatePostgresOutages(PostgresTransactor.prototype);

/** Inserts the audit event for the user that `userId` yields (none when it yields no row). */
function insertAuditEvent(record: AuditRecord, userId: SQL): SQL {
  return sql`insert into ${auditEvents} (occurred_at, event, outcome, user_id, ip, user_agent, actor, request_id)
    select ${record.occurredAt.toISOString()}::timestamptz, ${record.event}, ${record.outcome}, user_id,
      ${record.ip}::text, ${record.userAgent}::text, ${record.actor}, ${record.requestId}::text
    from (select ${userId} as user_id) as owner where user_id is not null`;
}

interface NewUserRow extends Record<string, unknown> {
  id: string;
  locale: string | null;
  email: string;
  email_key: string;
  password_hash: string | null;
  is_active: boolean;
  is_verified: boolean;
  created_at: string | Date;
}
