import type { EmailTransport, OutgoingEmail } from '../transport.ts';

/**
 * Development transport: prints each email, so a developer can click the link straight from the terminal.
 * It prints live links by design; production configures SMTP instead.
 */
export function createConsoleTransport(
  write: (line: string) => void = (line) => process.stdout.write(line),
): EmailTransport {
  return {
    async send(email: OutgoingEmail): Promise<void> {
      write(formatConsoleEmail(email));
    },
    async verify(): Promise<void> {},
    async close(): Promise<void> {},
  };
}

function formatConsoleEmail(email: OutgoingEmail): string {
  const rule = '-'.repeat(72);
  return [
    '',
    `${rule}`,
    `Email to:  ${email.to}`,
    `Subject:   ${email.subject}`,
    `${rule}`,
    email.text.trimEnd(),
    `${rule}`,
    '',
    '',
  ].join('\n');
}
