import { createHmac } from 'node:crypto';
import { lookup as lookupAddress, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from '../security/network-address.ts';

export { isPrivateAddress };

/** What one POST came to: an HTTP answer (any status, redirects included, never followed) or a failure. */
export type WebhookAttemptResult =
  | { readonly kind: 'answered'; readonly statusCode: number }
  | { readonly kind: 'failed'; readonly error: string };

export interface WebhookAttempt {
  readonly url: string;
  readonly webhookId: string;
  readonly payload: string;
  /** `whsec_` secrets: the attempt carries one `v1,` signature for each. */
  readonly secrets: readonly string[];
  readonly now: Date;
  readonly timeoutMilliseconds: number;
  readonly allowPrivateTargets: boolean;
  readonly signal?: AbortSignal;
}

/** The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret, space-separated. */
export function signWebhook(
  secrets: readonly string[],
  webhookId: string,
  timestampSeconds: number,
  payload: string,
): string {
  const signed = `${webhookId}.${String(timestampSeconds)}.${payload}`;
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      return `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
    })
    .join(' ');
}

class PrivateTargetError extends Error {
  readonly code = 'EPRIVATETARGET';
}

/**
 * A lookup that answers only with addresses the policy allows. The connection is made to the address this
 * returns, so the address checked is the address used: a name that resolves elsewhere a moment later (DNS
 * rebinding) changes nothing.
 */
function createCheckedLookup(allowPrivateTargets: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookupAddress(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error !== null) {
        callback(error, '', 0);
        return;
      }
      const allowed = allowPrivateTargets
        ? addresses
        : addresses.filter((entry) => !isPrivateAddress(entry.address));
      if (allowed.length === 0) {
        callback(
          new PrivateTargetError(
            `${hostname} resolves to private addresses only (WEBHOOK_ALLOW_PRIVATE=false)`,
          ),
          '',
          0,
        );
        return;
      }
      if (options.all === true) callback(null, allowed);
      else callback(null, allowed[0]?.address ?? '', allowed[0]?.family ?? 4);
    });
  };
}

/**
 * POSTs one signed delivery. The timestamp and the signature are made now, for this attempt: a receiver that
 * refuses old timestamps accepts a retry. Redirects are answers like any other (never followed); the whole
 * attempt (connect, send, answer) is bounded by `timeoutMilliseconds`.
 */
export async function attemptWebhookDelivery(attempt: WebhookAttempt): Promise<WebhookAttemptResult> {
  let url: URL;
  try {
    url = new URL(attempt.url);
  } catch {
    return { kind: 'failed', error: 'the endpoint URL is not valid' };
  }
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0 && !attempt.allowPrivateTargets && isPrivateAddress(literal))
    return { kind: 'failed', error: `${literal} is a private address (WEBHOOK_ALLOW_PRIVATE=false)` };
  const timestampSeconds = Math.floor(attempt.now.getTime() / 1000);
  const body = Buffer.from(attempt.payload, 'utf8');
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: WebhookAttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = client.request(url, {
      method: 'POST',
      agent: false,
      lookup: createCheckedLookup(attempt.allowPrivateTargets),
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'Latchkey-Webhooks',
        'webhook-id': attempt.webhookId,
        'webhook-timestamp': String(timestampSeconds),
        'webhook-signature': signWebhook(
          attempt.secrets,
          attempt.webhookId,
          timestampSeconds,
          attempt.payload,
        ),
      },
      ...(attempt.signal === undefined ? {} : { signal: attempt.signal }),
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${String(attempt.timeoutMilliseconds)} ms`));
    }, attempt.timeoutMilliseconds);
    request.on('response', (response) => {
      // The body is not read: only the status counts, and a large body must not hold the dispatcher.
      response.resume();
      finish({ kind: 'answered', statusCode: response.statusCode ?? 0 });
      request.destroy();
    });
    request.on('error', (error: Error & { code?: unknown }) => {
      const code = typeof error.code === 'string' ? `${error.code}: ` : '';
      finish({ kind: 'failed', error: `${code}${error.message}` });
    });
    request.end(body);
  });
}
