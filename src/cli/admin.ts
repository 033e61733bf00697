// `npm run admin -- <command> …`: what an operator can do without HTTP or SQL. The same flows as the admin
// API; audit events name `cli` as their actor. Commands are a table: one line adds one.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { composeAdminTools } from '../composition/admin-tools.ts';
import type { AdminContext } from '../flows/admin-context.ts';
import { createAdminKey, listAdminKeys, revokeAdminKey } from '../flows/admin-keys.ts';
import { listAuditEvents, listOutboxEmails } from '../flows/admin-records.ts';
import {
  deleteUser,
  endUserSessionForAdmin,
  listUserSessionsForAdmin,
  restoreDeletedUser,
  disableUser,
  enableUser,
  findUserByEmail,
  listUsers,
  logOutUser,
  resendUserVerification,
  sendUserPasswordReset,
  showUser,
} from '../flows/admin-users.ts';
import { runWithAuditOrigin } from '../flows/audit.ts';
import { FlowError } from '../flows/errors.ts';
import type { OutboxListStatus } from '../flows/ports.ts';
import { listWebhookDeliveries } from '../flows/webhooks-admin.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  disableWebhookEndpoint,
  enableWebhookEndpoint,
  listWebhookEndpoints,
  retryWebhookDelivery,
  rotateWebhookEndpointSecret,
} from '../flows/webhooks-endpoints.ts';
import type { WebhookListStatus } from '../flows/webhooks.ts';
import { createLogger } from '../logger.ts';
import { importTutorialCommand } from './import-tutorial.ts';

/** Where a command writes: its result to `out`, anything for the operator's eyes only to `err`. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/** A command: its arguments (after its name) in, an exit code out. */
export type AdminCommand = (args: string[], io: CommandIo) => Promise<number>;

const usageExitCode = 2;

/** Runs `work` on the admin flows of the configured database (and Redis), as the `cli` actor. */
async function withAdmin(work: (admin: AdminContext) => Promise<number>): Promise<number> {
  const config = loadConfig();
  const tools = await composeAdminTools(config, createLogger({ level: 'warn', destination: process.stderr }));
  try {
    return await runWithAuditOrigin({ ip: null, userAgent: null, requestId: null, actor: 'cli' }, () =>
      work(tools.admin),
    );
  } finally {
    await tools.close();
  }
}

/** Every page of a listing, one JSON line per row: a listing is never cut short. */
async function printEveryPage<Row>(
  io: CommandIo,
  readPage: (cursor: string | undefined) => Promise<{ rows: readonly Row[]; nextCursor: string | null }>,
  format: (row: Row) => object,
): Promise<number> {
  let cursor: string | undefined;
  do {
    const page = await readPage(cursor);
    for (const row of page.rows) io.out(JSON.stringify(format(row)));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return 0;
}

const keyCommands: Record<string, AdminCommand> = {
  async create(args, io) {
    const { values } = parseArgs({ args, options: { name: { type: 'string' } } });
    if (values.name === undefined) {
      io.err('usage: admin key create --name NAME');
      return usageExitCode;
    }
    const name = values.name;
    return withAdmin(async (admin) => {
      const { key, adminKey } = await createAdminKey(admin, name);
      io.err(`admin key ${adminKey.id} (${adminKey.name}) created; it is shown once, store it now:`);
      io.out(key);
      return 0;
    });
  },
  async list(_args, io) {
    return withAdmin(async (admin) => {
      io.out(['id', 'name', 'created', 'last used', 'revoked'].join('\t'));
      for (const key of await listAdminKeys(admin)) {
        io.out(
          [
            key.id,
            key.name,
            key.createdAt.toISOString(),
            key.lastUsedAt?.toISOString() ?? '-',
            key.revokedAt?.toISOString() ?? '-',
          ].join('\t'),
        );
      }
      return 0;
    });
  },
  async revoke(args, io) {
    const [keyId] = args;
    if (keyId === undefined) {
      io.err('usage: admin key revoke ID');
      return usageExitCode;
    }
    return withAdmin(async (admin) => {
      if (!(await revokeAdminKey(admin, keyId))) {
        io.err(`no live admin key ${keyId}`);
        return 1;
      }
      io.err(`admin key ${keyId} revoked`);
      return 0;
    });
  },
};

/** `users <action> ID`: one account by id. */
function userAction(
  run: (admin: AdminContext, userId: string) => Promise<unknown>,
  done: string,
): AdminCommand {
  return async (args, io) => {
    const [userId] = args;
    if (userId === undefined) {
      io.err('usage: admin users <action> ID');
      return usageExitCode;
    }
    return withAdmin(async (admin) => {
      const result = await run(admin, userId);
      io.out(result === undefined ? done : JSON.stringify(result, null, 2));
      return 0;
    });
  };
}

const userCommands: Record<string, AdminCommand> = {
  async find(args, io) {
    const [email] = args;
    if (email === undefined) {
      io.err('usage: admin users find EMAIL');
      return usageExitCode;
    }
    return withAdmin(async (admin) => {
      const page = await findUserByEmail(admin, email);
      const [user] = page.users;
      if (user === undefined) {
        io.err(`no account for ${email}`);
        return 1;
      }
      io.out(JSON.stringify(user));
      return 0;
    });
  },
  show: userAction(showUser, ''),
  async list(args, io) {
    const { values } = parseArgs({ args, options: { q: { type: 'string' } } });
    return withAdmin((admin) =>
      printEveryPage(
        io,
        async (cursor) => {
          const page = await listUsers(admin, {
            ...(values.q === undefined ? {} : { containing: values.q }),
            ...(cursor === undefined ? {} : { cursor }),
            limit: 100,
          });
          return { rows: page.users, nextCursor: page.nextCursor };
        },
        (user) => user,
      ),
    );
  },
  disable: userAction(disableUser, 'disabled: every session has ended'),
  enable: userAction(enableUser, 'enabled'),
  logout: userAction(logOutUser, 'every session has ended'),
  sessions: userAction(listUserSessionsForAdmin, ''),
  async 'end-session'(args, io) {
    const [userId, sessionId] = args;
    if (userId === undefined || sessionId === undefined) {
      io.err('usage: admin users end-session ID SESSION_ID');
      return usageExitCode;
    }
    return withAdmin(async (admin) => {
      await endUserSessionForAdmin(admin, userId, sessionId);
      io.out('the session has ended');
      return 0;
    });
  },
  'resend-verification': userAction(resendUserVerification, 'verification link queued'),
  'password-reset': userAction(sendUserPasswordReset, 'reset link queued'),
  delete: userAction(deleteUser, 'deleted: restorable by its owner during the grace period'),
  restore: userAction(restoreDeletedUser, 'restored: its owner can log in again'),
};

const outboxStatuses: readonly string[] = ['queued', 'retrying', 'abandoned'];

/** `webhooks <action> ID`: one endpoint (or delivery) by id. */
function webhookAction(
  usage: string,
  run: (admin: AdminContext, id: string) => Promise<unknown>,
  done: string,
): AdminCommand {
  return async (args, io) => {
    const [id] = args;
    if (id === undefined) {
      io.err(`usage: admin webhooks ${usage}`);
      return usageExitCode;
    }
    return withAdmin(async (admin) => {
      const result = await run(admin, id);
      io.out(result === undefined ? done : JSON.stringify(result));
      return 0;
    });
  };
}

const webhookDeliveryStatuses: readonly string[] = ['pending', 'delivered', 'abandoned'];

const webhookCommands: Record<string, AdminCommand> = {
  async list(_args, io) {
    return withAdmin(async (admin) => {
      for (const endpoint of await listWebhookEndpoints(admin)) io.out(JSON.stringify(endpoint));
      return 0;
    });
  },
  async create(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { events: { type: 'string' }, description: { type: 'string' } },
    });
    const [url, extra] = positionals;
    if (url === undefined || extra !== undefined) {
      io.err('usage: admin webhooks create URL [--events a,b] [--description TEXT]');
      return usageExitCode;
    }
    const eventTypes = values.events
      ?.split(',')
      .map((type) => type.trim())
      .filter((type) => type !== '');
    return withAdmin(async (admin) => {
      const { endpoint, secret } = await createWebhookEndpoint(admin, {
        url,
        ...(eventTypes === undefined ? {} : { eventTypes }),
        ...(values.description === undefined ? {} : { description: values.description }),
      });
      io.err(`webhook endpoint ${endpoint.id} created; its signing secret is shown once, store it now:`);
      io.out(secret);
      return 0;
    });
  },
  enable: webhookAction('enable ID', enableWebhookEndpoint, ''),
  disable: webhookAction('disable ID', disableWebhookEndpoint, ''),
  delete: webhookAction('delete ID', deleteWebhookEndpoint, 'deleted: what waited for it is abandoned'),
  async 'rotate-secret'(args, io) {
    const [id] = args;
    if (id === undefined) {
      io.err('usage: admin webhooks rotate-secret ID');
      return usageExitCode;
    }
    return withAdmin(async (admin) => {
      const { endpoint, secret } = await rotateWebhookEndpointSecret(admin, id);
      io.err(
        `new signing secret of ${endpoint.id}, shown once; the previous one signs too until ${endpoint.previousSecretExpiresAt?.toISOString() ?? '-'}:`,
      );
      io.out(secret);
      return 0;
    });
  },
  async deliveries(args, io) {
    const { values } = parseArgs({ args, options: { status: { type: 'string' } } });
    const status = values.status;
    if (status !== undefined && !webhookDeliveryStatuses.includes(status)) {
      io.err('usage: admin webhooks deliveries [--status pending|delivered|abandoned]');
      return usageExitCode;
    }
    return withAdmin((admin) =>
      printEveryPage(
        io,
        async (cursor) => {
          const page = await listWebhookDeliveries(admin, {
            ...(status === undefined ? {} : { status: status as WebhookListStatus }),
            ...(cursor === undefined ? {} : { cursor }),
            limit: 100,
          });
          return { rows: page.deliveries, nextCursor: page.nextCursor };
        },
        (delivery) => delivery,
      ),
    );
  },
  retry: webhookAction('retry DELIVERY_ID', retryWebhookDelivery, 'queued again'),
};

/** A command whose first argument names one of `table`'s subcommands. */
function commandGroup(name: string, table: Record<string, AdminCommand>): AdminCommand {
  return async (args, io) => {
    const [sub, ...rest] = args;
    const command = sub === undefined ? undefined : table[sub];
    if (command === undefined) {
      io.err(`usage: admin ${name} ${Object.keys(table).join(' | ')}`);
      return usageExitCode;
    }
    return command(rest, io);
  };
}

/** Every command of `npm run admin`. */
/** The import writes text; the admin commands' output is line by line. */
function linesTo(emit: (line: string) => void): { write(text: string): boolean } {
  let pending = '';
  return {
    write(text) {
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) emit(line);
      return true;
    },
  };
}

export const adminCommands: Record<string, AdminCommand> = {
  key: commandGroup('key', keyCommands),
  users: commandGroup('users', userCommands),
  webhooks: commandGroup('webhooks', webhookCommands),
  async outbox(args, io) {
    const { values } = parseArgs({ args, options: { status: { type: 'string' } } });
    const status = values.status;
    if (status !== undefined && !outboxStatuses.includes(status)) {
      io.err('usage: admin outbox [--status queued|retrying|abandoned]');
      return usageExitCode;
    }
    return withAdmin((admin) =>
      printEveryPage(
        io,
        async (cursor) => {
          const page = await listOutboxEmails(admin, {
            ...(status === undefined ? {} : { status: status as OutboxListStatus }),
            ...(cursor === undefined ? {} : { cursor }),
            limit: 100,
          });
          return { rows: page.emails, nextCursor: page.nextCursor };
        },
        (email) => email,
      ),
    );
  },
  'import-tutorial': (args, io) =>
    importTutorialCommand(args, {
      stdout: linesTo((line) => io.out(line)),
      stderr: linesTo((line) => io.err(line)),
    }),
  async audit(args, io) {
    const { values } = parseArgs({
      args,
      options: { user: { type: 'string' }, event: { type: 'string' }, since: { type: 'string' } },
    });
    const since = values.since === undefined ? undefined : new Date(values.since);
    if (since !== undefined && Number.isNaN(since.getTime())) {
      io.err('usage: admin audit [--user ID] [--event EVENT] [--since ISO-8601]');
      return usageExitCode;
    }
    return withAdmin((admin) =>
      printEveryPage(
        io,
        async (cursor) => {
          const page = await listAuditEvents(admin, {
            ...(values.user === undefined ? {} : { userId: values.user }),
            ...(values.event === undefined ? {} : { event: values.event }),
            ...(since === undefined ? {} : { since }),
            ...(cursor === undefined ? {} : { cursor }),
            limit: 100,
          });
          return { rows: page.events, nextCursor: page.nextCursor };
        },
        (event) => event,
      ),
    );
  },
};

/** Runs one command line; the exit code. */
export async function runAdminCommand(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : adminCommands[name];
  if (command === undefined) {
    io.err(`usage: npm run admin -- ${Object.keys(adminCommands).join(' | ')} …`);
    return usageExitCode;
  }
  try {
    return await command(args, io);
  } catch (error) {
    if (error instanceof FlowError || error instanceof ConfigError) {
      io.err(error.message);
      return 1;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.err(error.message);
      return usageExitCode;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exitCode = await runAdminCommand(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
