import { asc, lt, sql } from './drizzle.ts';
import type { SigningKeyStore, StoredSigningKey } from '../../flows/ports.ts';
import { PostgresStore } from './database.ts';
import { jwtSigningKeys } from './schema.ts';
import { translatePostgresOutages } from './outages.ts';

/** JWT signing keys in PostgreSQL (or the embedded PGlite): one set every instance reads. */
export class PostgresSigningKeyStore extends PostgresStore implements SigningKeyStore {
  async listSigningKeys(): Promise<StoredSigningKey[]> {
    return this.db.select().from(jwtSigningKeys).orderBy(asc(jwtSigningKeys.generation));
  }

  async insertSigningKey(
    key: StoredSigningKey,
    retire: { readonly signingEndsAt: Date; readonly publishedUntil: Date },
  ): Promise<boolean> {
    // One statement: the insert (nothing on a taken generation or kid) and, only when it inserted, the end
    // times of the keys before it. A concurrent insert of the same generation waits on the unique index and
    // then inserts nothing, so of two instances adding a successor at once exactly one does.
    const result = await this.db.execute(sql`
      with inserted as (
        insert into jwt_signing_keys
          (kid, generation, public_jwk, sealed_private_key, created_at, signing_starts_at)
        values (${key.kid}, ${key.generation}, ${key.publicJwk}, ${key.sealedPrivateKey},
          ${key.createdAt.toISOString()}, ${key.signingStartsAt.toISOString()})
        on conflict do nothing
        returning generation
      ), retired as (
        update jwt_signing_keys
        set signing_ends_at = ${retire.signingEndsAt.toISOString()},
          published_until = ${retire.publishedUntil.toISOString()}
        where signing_ends_at is null and generation < (select generation from inserted)
      )
      select count(*)::int as inserted from inserted`);
    return Number((result.rows[0] as { inserted?: number } | undefined)?.inserted ?? 0) === 1;
  }

  async deleteSigningKeysUnpublishedBefore(before: Date): Promise<number> {
    const deleted = await this.db
      .delete(jwtSigningKeys)
      .where(lt(jwtSigningKeys.publishedUntil, before))
      .returning({ kid: jwtSigningKeys.kid });
    return deleted.length;
  }
}
translatePostgresOutages(PostgresSigningKeyStore.prototype);
