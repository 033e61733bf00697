// The downstream side of the JWT scenarios: access tokens minted from Latchkey through `POST /jwt`, and the
// verifier package's example app (packages/verify/example/downstream.ts) started in its own process, as a
// service that trusts Latchkey's tokens runs.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type RunningService } from './service.ts';

/** Requests in flight while minting the tokens of a scenario up front. */
const mintConcurrency = 8;
/** Left to a token after the scenario has ended, so that no request of the load meets an expired one. */
const expiryMarginSeconds = 30;

interface MintedJwt {
  readonly access_token: string;
  readonly expires_in: number;
}

/** Mints `count` access tokens for the session `sessionToken`; each must outlive the load by a margin. */
async function mintJwts(
  serviceUrl: string,
  sessionToken: string,
  count: number,
  durationSeconds: number,
): Promise<string[]> {
  const tokens: string[] = [];
  const mintOne = async (): Promise<void> => {
    const response = await fetch(`${serviceUrl}/jwt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sessionToken}` },
    });
    if (response.status !== 200) {
      throw new Error(`POST /jwt: expected 200, got ${response.status} ${await response.text()}`);
    }
    const minted = (await response.json()) as MintedJwt;
    if (minted.expires_in < durationSeconds + expiryMarginSeconds) {
      throw new Error(
        `the access tokens last ${minted.expires_in} s, too short for ${durationSeconds} s of load: ` +
          'shorten --duration or raise the service setting with --env JWT_EXPIRE_SECONDS=900',
      );
    }
    tokens.push(minted.access_token);
  };
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      await mintOne();
    }
  };
  await Promise.all(Array.from({ length: Math.min(mintConcurrency, count) }, worker));
  return tokens;
}

/**
 * Mints `tokenCount` access tokens for the bench user's session, then starts the example downstream app
 * against the service (its JWKS fetched once here, before any load) and checks that it accepts the first
 * token on its protected route. `verifiedTokenCacheSize` 0 turns the verifier's cache of verified tokens off,
 * so that every request is a full signature check.
 */
export async function startDownstream(options: {
  readonly serviceUrl: string;
  readonly sessionToken: string;
  readonly run: number;
  readonly durationSeconds: number;
  readonly tokenCount: number;
  readonly verifiedTokenCacheSize?: number;
}): Promise<RunningService & { readonly tokens: readonly string[] }> {
  const tokens = await mintJwts(
    options.serviceUrl,
    options.sessionToken,
    options.tokenCount,
    options.durationSeconds,
  );
  const downstream = await startService(
    {
      ISSUER: options.serviceUrl,
      ...(options.verifiedTokenCacheSize !== undefined && {
        VERIFIED_TOKEN_CACHE_SIZE: String(options.verifiedTokenCacheSize),
      }),
    },
    join(tmpdir(), `latchkey-bench-downstream-${options.run}.log`),
    'packages/verify/example/downstream.ts',
  );
  try {
    const response = await fetch(`${downstream.url}${downstreamRoute}`, {
      headers: { authorization: `Bearer ${tokens[0]}` },
    });
    if (response.status !== 200) {
      throw new Error(
        `downstream ${downstreamRoute}: expected 200, got ${response.status} ${await response.text()}`,
      );
    }
  } catch (error) {
    await downstream.stop();
    throw error;
  }
  return { ...downstream, tokens };
}

/** The example app's route behind the verifier. */
export const downstreamRoute = '/whoami';
