import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { isCi } from './backends.ts';

/** This machine's network is closed: no first-run, sync, update or QUIC traffic from the browser. */
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The system's Chromium (Debian's package): /usr/bin/chromium, or the first `chromium` on PATH. */
export function findChromium(): string | undefined {
  const candidates = [
    '/usr/bin/chromium',
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .flatMap((folder) => [join(folder, 'chromium'), join(folder, 'chromium-browser')]),
  ];
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Why the browser suites cannot run here, or undefined when they can. Under CI=true a missing Chromium is an
 * error (the suite fails); elsewhere the suite is skipped with this message.
 */
export function browserSkipReason(): string | undefined {
  if (findChromium() !== undefined) return undefined;
  if (isCi) throw new Error('CI=true requires Chromium for the browser tests (apt-get install -y chromium)');
  return 'no Chromium found (/usr/bin/chromium or chromium on PATH): the browser tests are skipped';
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === undefined) throw new Error('no Chromium found');
  return chromium.launch({ executablePath, args: chromiumFlags, headless: true });
}

const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/**
 * axe-core's serious and critical findings on the page as it is now (WCAG 2 A/AA rules and best practice).
 * Evaluated through the browser's debugging protocol, so the page's CSP neither blocks nor loosens for it.
 */
export async function findSeriousAccessibilityIssues(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations;
  })) as AxeViolation[];
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

/** Every CSP violation the page reports, from its console and from `securitypolicyviolation` events. */
export function recordPolicyViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (entry) => {
    if (/Content Security Policy/i.test(entry.text())) violations.push(entry.text());
  });
  page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
  return violations;
}

/** An init script that turns `securitypolicyviolation` events into console lines recordPolicyViolations sees. */
export const reportPolicyViolationsScript = `document.addEventListener('securitypolicyviolation', (event) => {
  console.error('Content Security Policy violation: ' + event.violatedDirective + ' ' + event.blockedURI);
});`;
