/** One rendered email, ready for a transport. */
export interface OutgoingEmail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The outbox entry's Message-ID, stable across retries so a receiver can spot a duplicate. */
  readonly messageId: string;
}

/** Where rendered emails leave the process: SMTP in production, the console in development. */
export interface EmailTransport {
  /**
   * Resolves once the server accepted the message; rejects with the reason it did not (see
   * classifySendFailure), or when `signal` aborts first.
   */
  send(email: OutgoingEmail, options?: { readonly signal?: AbortSignal }): Promise<void>;
  /** Checks that the server is reachable and accepts our credentials; for readiness probes and start-up. */
  verify(): Promise<void>;
  close(): Promise<void>;
}

export type SendFailureKind = 'permanent' | 'temporary';

// Credential and TLS problems come with 5xx codes too, but they are the operator's to fix, not the
// message's fault: abandoning every queued email because of a password typo would lose them all.
const operatorFixableErrorCodes = new Set(['EAUTH', 'ENOAUTH', 'ETLS', 'EREQUIRETLS']);

/**
 * A 5xx reply means the server will never take this message (unknown mailbox, refused content): retrying
 * only repeats the refusal. Everything else (4xx, refused or dropped connections, timeouts, unknown errors)
 * may pass later, so it is retried.
 */
export function classifySendFailure(error: unknown): SendFailureKind {
  if (typeof error !== 'object' || error === null) return 'temporary';
  const { responseCode, code } = error as { responseCode?: unknown; code?: unknown };
  if (typeof code === 'string' && operatorFixableErrorCodes.has(code)) return 'temporary';
  if (typeof responseCode === 'number' && responseCode >= 500 && responseCode <= 599) return 'permanent';
  return 'temporary';
}
