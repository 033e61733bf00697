// The floor of a session check on this machine: fastify and ioredis alone, doing the least a revocable
// bearer-token check can do. `GET /me` hashes the token (SHA-256), reads the session record Latchkey wrote
// (`<REDIS_KEY_PREFIX>session:<hash>`) with one auto-pipelined GET, parses it and answers four fields. No
// security headers, metrics, cookies, schemas, deadlines, logging or error handling.
//
// The bench runs it (scenario `whoami-floor`) beside the real service on the same Redis, so who-am-I can be
// read as a share of what the machine allows that day, as login is read against the argon2id ceiling.
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { hash } from 'node:crypto';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
  keyPrefix: process.env.REDIS_KEY_PREFIX ?? '',
  enableAutoPipelining: true,
});
const app = Fastify({ logger: false });

app.get('/', async () => ({ status: 'ok' }));

app.get('/me', async (request, reply) => {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  const json = token === undefined ? null : await redis.get(`session:${hash('sha256', token, 'hex')}`);
  if (json === null) return reply.code(401).send({ detail: 'Not authenticated' });
  const session = JSON.parse(json) as {
    userId: string;
    email: string;
    isActive: boolean;
    isVerified: boolean;
  };
  return {
    id: session.userId,
    email: session.email,
    is_active: session.isActive,
    is_verified: session.isVerified,
  };
});

process.once('SIGTERM', () => {
  void app.close().then(() => redis.quit());
});

await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
