import type { Locale } from '../../security/locale.ts';
import type { User } from '../../flows/model.ts';
import type { AuditRecord } from '../../flows/audit.ts';
import type { TokenEmail, Transactor, TransactionStores } from '../../flows/ports.ts';
import { MemoryAuditTrail } from './audit-trail.ts';
import { Journal, type MemoryDatabase } from './database.ts';
import { MemoryEmailOutbox } from './email-outbox.ts';
import { MemoryTokenStore } from './token-store.ts';
import { MemoryUserStore } from './user-store.ts';
import type { WebhookTargets } from '../../flows/webhooks.ts';

/**
 * Transactions on a MemoryDatabase, all or nothing as in PostgreSQL: a transaction's writes are journaled
 * and undone if it throws, and its emails reach the outbox only when it commits. Transactions run one at
 * a time; the one-statement forms are transactions too. Unlike PostgreSQL, a read outside a transaction
 * may see a write of one still running: no flow depends on that isolation, and a rollback still undoes it.
 */
export class MemoryTransactor implements Transactor {
  readonly #database: MemoryDatabase;
  readonly #onEmailCommitted: () => void;
  readonly #messageIdDomain: string | undefined;
  readonly #webhooks: WebhookTargets | undefined;

  constructor(
    database: MemoryDatabase,
    options: { onEmailCommitted?: () => void; messageIdDomain?: string; webhooks?: WebhookTargets } = {},
  ) {
    this.#webhooks = options.webhooks;
    this.#database = database;
    this.#onEmailCommitted = options.onEmailCommitted ?? (() => {});
    this.#messageIdDomain = options.messageIdDomain;
  }

  async runInTransaction<T>(work: (stores: TransactionStores) => Promise<T>): Promise<T> {
    const outbox = new MemoryEmailOutbox();
    let queuedWebhooks = false;
    const webhooks = this.#webhooks && {
      urls: this.#webhooks.urls,
      onQueued: () => {
        queuedWebhooks = true;
      },
    };
    const result = await this.#database.exclusively(async () => {
      const journal = new Journal();
      try {
        const value = await work({
          users: new MemoryUserStore(this.#database, journal),
          tokens: new MemoryTokenStore(this.#database, journal),
          outbox,
          audit: new MemoryAuditTrail(this.#database, journal, webhooks),
        });
        for (const message of outbox.pending) {
          this.#database.outbox.enqueueEmail(
            message,
            this.#messageIdDomain === undefined ? {} : { messageIdDomain: this.#messageIdDomain },
          );
        }
        return value;
      } catch (error) {
        journal.rollBack();
        throw error;
      }
    });
    if (outbox.pending.length > 0) this.#onEmailCommitted();
    if (queuedWebhooks) this.#webhooks?.onQueued?.();
    return result;
  }

  async insertUserWithTokenEmail(
    input: { email: string; emailKey: string; passwordHash: string; locale?: Locale | null },
    tokenEmail: TokenEmail,
    audit?: AuditRecord,
  ): Promise<User | null> {
    return this.runInTransaction(async (stores) => {
      const user = await stores.users.insertUser(input);
      if (user === null) return null;
      if (audit !== undefined) await stores.audit.appendAuditEvent({ ...audit, userId: user.id });
      await stores.tokens.createToken({ ...tokenEmail.token, userId: user.id });
      await stores.outbox.enqueueEmail(tokenEmail.email);
      return user;
    });
  }

  async issueTokenWithEmail(
    userId: string,
    tokenEmail: TokenEmail,
    options: { readonly replacePrevious: boolean; readonly audit?: AuditRecord },
  ): Promise<void> {
    await this.runInTransaction(async (stores) => {
      if (options.audit !== undefined) await stores.audit.appendAuditEvent(options.audit);
      if (options.replacePrevious) {
        await stores.tokens.invalidateUserTokens(
          userId,
          tokenEmail.token.purpose,
          this.#database.clock.now(),
        );
      }
      await stores.tokens.createToken({ ...tokenEmail.token, userId });
      await stores.outbox.enqueueEmail(tokenEmail.email);
    });
  }
}
