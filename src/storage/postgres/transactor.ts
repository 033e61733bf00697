import type { Transactor, TransactionStores } from '../../flows/ports.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import type { Db } from './database.ts';
import { PostgresEmailOutbox } from './email-outbox.ts';
import { PostgresTokenStore } from './token-store.ts';
import { PostgresUserStore } from './user-store.ts';

export interface TransactorOptions {
  readonly box: SecretBox;
  readonly messageIdDomain: string;
  /** Told after a commit that queued mail, so the dispatcher sends at once instead of at its next poll. */
  readonly onEmailCommitted?: () => void;
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
      }),
    );
    if (queuedEmail) this.#options.onEmailCommitted?.();
    return result;
  }
}
