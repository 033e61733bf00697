import { randomBytes } from 'node:crypto';
import type { AdminContext } from './admin-context.ts';
import { isWellFormedId } from './admin-paging.ts';
import { assignAuditActor, recordAuditEvent } from './audit.ts';
import { FlowError } from './errors.ts';
import type { AdminKey } from './ports.ts';
import { hashToken } from '../security/tokens.ts';

/** Every admin key starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const adminKeyPrefix = 'lk_admin_';
const adminKeyPattern = /^lk_admin_[A-Za-z0-9_-]{43}$/;

/** last_used_at is written at most this often per key: an admin call costs no write most of the time. */
export const adminKeyUseIntervalSeconds = 60;

/** A new admin key: shown once to whoever creates it; only its SHA-256 is stored. */
export async function createAdminKey(
  context: AdminContext,
  name: string,
): Promise<{ readonly key: string; readonly adminKey: AdminKey }> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 100) {
    throw new FlowError('invalid_request', 'The name must be 1 to 100 characters');
  }
  const key = `${adminKeyPrefix}${randomBytes(32).toString('base64url')}`;
  const adminKey = await context.adminKeys.insertAdminKey({ name: trimmed, keyHash: hashToken(key) });
  await recordAuditEvent(
    context.account.audit,
    { event: 'admin_key_created', outcome: adminKey.id, userId: null },
    context.account.clock.now(),
  );
  return { key, adminKey };
}

export async function listAdminKeys(context: AdminContext): Promise<AdminKey[]> {
  return context.adminKeys.listAdminKeys();
}

/** Revokes a key at once; false when there is no such key or it is revoked already. */
export async function revokeAdminKey(context: AdminContext, keyId: string): Promise<boolean> {
  if (!isWellFormedId(keyId)) return false;
  const revoked = await context.adminKeys.revokeAdminKey(keyId, context.account.clock.now());
  if (revoked) {
    await recordAuditEvent(
      context.account.audit,
      { event: 'admin_key_revoked', outcome: keyId, userId: null },
      context.account.clock.now(),
    );
  }
  return revoked;
}

/**
 * The live admin key behind an `Authorization` header: 401 `admin_key_required` without a bearer token,
 * 403 `admin_key_refused` for anything but a live admin key (a wrong, revoked, malformed or session token
 * alike, one answer). The key is found by its SHA-256: the lookup compares hashes, which an attacker cannot
 * steer byte by byte. From here on, audit events name the key as their actor.
 */
export async function authenticateAdminKey(
  context: AdminContext,
  authorization: string | undefined,
): Promise<AdminKey> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (bearer === undefined) throw new FlowError('admin_key_required');
  const now = context.account.clock.now();
  const adminKey = adminKeyPattern.test(bearer)
    ? await context.adminKeys.findAdminKeyByHash(hashToken(bearer))
    : null;
  // The caller records a refusal (the HTTP layer only within the client's `ip.admin` budget, so a stranger's
  // guesses cannot fill the trail), never with the token.
  if (adminKey === null || adminKey.revokedAt !== null) throw new FlowError('admin_key_refused');
  assignAuditActor(`admin:${adminKey.id}`);
  if (
    adminKey.lastUsedAt === null ||
    now.getTime() - adminKey.lastUsedAt.getTime() >= adminKeyUseIntervalSeconds * 1000
  ) {
    await context.adminKeys.recordAdminKeyUse(
      adminKey.id,
      now,
      new Date(now.getTime() - adminKeyUseIntervalSeconds * 1000),
    );
  }
  return adminKey;
}
