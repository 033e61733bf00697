// A downstream service that trusts Latchkey's access tokens: its own process, configured by environment.
//   ISSUER    Latchkey's APP_BASE_URL (required)
//   AUDIENCE  the `aud` it accepts (default ISSUER, Latchkey's default JWT_AUDIENCE)
//   JWKS_URL  default ISSUER/.well-known/jwks.json
//   PORT      default 4000 (0: any free port); HOST default 127.0.0.1
//   JWKS_COOLDOWN_SECONDS  least time between two fetches of the key set (default 30)
//   VERIFIED_TOKEN_CACHE_SIZE  tokens remembered once verified (the verifier's default 10,000; 0: none)
// It imports the package's source so that it runs from this repository without a build; an installed service
// imports '@latchkey/verify' and '@latchkey/verify/fastify' instead.
import fastify from 'fastify';
import { createVerifier } from '../src/index.ts';
import { latchkeyAuth } from '../src/fastify.ts';

const issuer = process.env.ISSUER;
if (issuer === undefined || issuer === '') {
  console.error('ISSUER is required: the Latchkey base URL that signs the tokens');
  process.exit(2);
}

const verifier = createVerifier({
  issuer,
  ...(process.env.AUDIENCE && { audience: process.env.AUDIENCE }),
  ...(process.env.JWKS_URL && { jwksUrl: process.env.JWKS_URL }),
  ...(process.env.JWKS_COOLDOWN_SECONDS && {
    jwksCooldownSeconds: Number(process.env.JWKS_COOLDOWN_SECONDS),
  }),
  ...(process.env.VERIFIED_TOKEN_CACHE_SIZE && {
    verifiedTokenCacheSize: Number(process.env.VERIFIED_TOKEN_CACHE_SIZE),
  }),
});

const app = fastify();
app.get('/', async () => ({ status: 'ok' }));
app.get('/health', async () => ({ status: 'ok' }));
await app.register(async (guarded) => {
  await guarded.register(latchkeyAuth, { verifier });
  guarded.get('/whoami', async (request) => {
    const claims = request.auth;
    return {
      user_id: claims?.sub,
      email: claims?.email,
      email_verified: claims?.email_verified,
      session_id: claims?.sid,
      expires_at: claims?.exp,
    };
  });
});

const url = await app.listen({
  port: Number(process.env.PORT ?? 4000),
  host: process.env.HOST ?? '127.0.0.1',
});
console.log(`downstream listening on ${url}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
