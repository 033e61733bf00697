// The admin CLI (`npm run admin`): the same account context and admin flows as the API, without HTTP, the
// mail dispatcher or the clean-up. Mail it queues is sent by the running service's (or worker's) dispatcher.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { AdminContext } from '../flows/admin-context.ts';
import { loadCommonPasswords } from '../security/common-passwords.ts';
import { createAccountContext } from './account-context.ts';
import { createAdminContext } from './admin-context.ts';
import { createOutboxSecretBox, openMigratedDatabase } from './database.ts';
import { createOutboxEvents } from './outbox-events.ts';
import { createWebhookSecretBox } from './webhook-delivery.ts';
import { createAttemptBudgets, createRateLimiterBuilder } from './rate-limiters.ts';
import { connectRedis } from './redis.ts';
import { resolveSecretKey } from './secret-key.ts';
import type { RedisClient } from '../storage/redis/client.ts';

export interface AdminTools {
  readonly admin: AdminContext;
  close(): Promise<void>;
}

export async function composeAdminTools(config: Config, logger: Logger): Promise<AdminTools> {
  const database = await openMigratedDatabase({ config, logger });
  try {
    const commonPasswords = await loadCommonPasswords();
    const redis: RedisClient | undefined =
      config.redis === undefined ? undefined : connectRedis(config.redis, logger);
    const secretKey = resolveSecretKey(config);
    const account = createAccountContext({
      config,
      database,
      redis,
      outboxSecretBox: createOutboxSecretBox(config, secretKey),
      outboxEvents: createOutboxEvents(),
      commonPasswords,
      budgets: createAttemptBudgets(createRateLimiterBuilder(config.rateLimit, redis)),
      secretKey,
    });
    return {
      admin: createAdminContext(database, account, {
        config: config.webhooks,
        secretBox: createWebhookSecretBox(config, secretKey),
      }),
      async close() {
        redis?.disconnect();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
