import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generatePassword, uniqueEmail } from '../support/journeys.ts';
import { startLatchkey, stopAll, type LatchkeyProcess } from '../support/process.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

// EMAIL_TEMPLATES_DIR end to end: the operator's files rendered by the running service's dispatcher and
// delivered through a real SMTP server, and a bad file stopping `npm start` and `npm run worker` before they
// start, naming the file and line.

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function writeTemplateFolder(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'latchkey-email-templates-'));
  folders.push(folder);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  return folder;
}

const hostileProductName = 'Acme <script>alert(1)</script>';

for (const backend of availableBackends()) {
  describe(`operator email templates (${backend})`, () => {
    let service: TestService;
    before(async () => {
      const folder = writeTemplateFolder({
        'de/verify_email.subject.txt': 'Willkommen bei {{product_name}}, {{email}}\n',
        'de/verify_email.html':
          '<!doctype html>\n<html lang="{{locale}}">\n<h1>{{product_name}}</h1>\n<a href="{{link}}">Bestätigen</a>\n</html>\n',
        'de/password_reset.text.txt': 'Neues Passwort für {{email}}:\n\n{{link}}\n\n{{link_validity}}.\n',
      });
      service = await startTestService(backend, {
        EMAIL_TEMPLATES_DIR: folder,
        PRODUCT_NAME: hostileProductName,
      });
    });
    after(async () => {
      await service?.close();
    });

    async function register(email: string, locale: 'en' | 'de'): Promise<void> {
      const answer = await fetch(`${service.baseUrl}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: generatePassword(), locale }),
      });
      assert.equal(answer.status, 200, await answer.text());
    }

    const emailTo = (to: string, path: string) =>
      service.smtp.waitForEmail(
        (email) => email.to === to && email.links.some((link) => new URL(link).pathname === path),
        10_000,
      );

    test('a German verification email comes with the operator’s subject and HTML, values escaped, and the built-in text', async () => {
      const email = uniqueEmail('vorlage');
      await register(email, 'de');
      const delivered = await emailTo(email, '/verify-email');
      assert.equal(delivered.subject, `Willkommen bei ${hostileProductName}, ${email}`);
      assert.match(delivered.html, /^<!doctype html>\n<html lang="de">\n/);
      assert.ok(
        delivered.html.includes('<h1>Acme &lt;script&gt;alert(1)&lt;/script&gt;</h1>'),
        delivered.html,
      );
      assert.doesNotMatch(delivered.html, /<script>/);
      // No text file for it: the built-in German text part.
      assert.match(delivered.text, /Bestätigen Sie mit diesem Link, dass .+ Ihre E-Mail-Adresse ist/);
      const link = delivered.links.find((candidate) => new URL(candidate).pathname === '/verify-email')!;
      assert.equal(new URL(link).searchParams.get('lang'), 'de');
      assert.ok(delivered.html.includes(`href="${link.replaceAll('&', '&amp;')}"`), 'the HTML links it too');
    });

    test('a German reset email takes only its text from the operator; subject and HTML stay built in', async () => {
      const email = uniqueEmail('zuruecksetzen');
      await register(email, 'de');
      await emailTo(email, '/verify-email');
      const asked = await fetch(`${service.baseUrl}/forgot-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      });
      assert.ok(asked.status < 300, `forgot-password answered ${asked.status}`);
      const delivered = await emailTo(email, '/reset-password');
      assert.match(delivered.text, new RegExp(`^Neues Passwort für ${email.replaceAll('.', '\\.')}:\n\n`));
      assert.match(delivered.text, /Der Link ist gültig bis \d\d:\d\d UTC am /);
      assert.equal(delivered.subject, `Setzen Sie Ihr ${hostileProductName}-Passwort zurück`);
      assert.match(delivered.html, /<html lang="de">/);
      assert.match(delivered.html, /Passwort zurücksetzen/);
      const link = delivered.links.find((candidate) => new URL(candidate).pathname === '/reset-password')!;
      assert.equal(new URL(link).searchParams.get('lang'), 'de');
    });

    test('an English email has no file for its locale: all built in, its link in English', async () => {
      const email = uniqueEmail('english');
      await register(email, 'en');
      const delivered = await emailTo(email, '/verify-email');
      assert.equal(delivered.subject, `Verify your email address for ${hostileProductName}`);
      assert.match(delivered.html, /<html lang="en">/);
      const link = delivered.links.find((candidate) => new URL(candidate).pathname === '/verify-email')!;
      assert.equal(new URL(link).searchParams.get('lang'), 'en');
    });
  });
}

describe('a bad template folder stops start-up, naming every file and line', () => {
  const started: LatchkeyProcess[] = [];
  after(async () => {
    await stopAll(started);
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-email-templates-data-'));
  folders.push(dataDir);
  const folder = writeTemplateFolder({
    'de/verify_email.html': '<p>{{email}}</p>\n<a href="{{linkk}}">x</a>\n',
    'de/password_reset.text.txt': 'Hallo\n{{link}\n',
    'fr/verify_email.subject.txt': 'Bonjour',
  });

  for (const role of ['api', 'worker'] as const) {
    test(`${role === 'api' ? 'npm start' : 'npm run worker'} exits 1 and lists the problems`, async () => {
      const running = await startLatchkey({
        role,
        env: { NODE_ENV: 'test', DATA_DIR: dataDir, EMAIL_TEMPLATES_DIR: folder },
        waitUntilReady: false,
      });
      started.push(running);
      assert.equal((await running.exited).code, 1);
      const output = running.output();
      assert.match(output, role === 'api' ? /Latchkey cannot start/ : /Latchkey worker cannot start/);
      for (const problem of [
        `EMAIL_TEMPLATES_DIR: ${folder}/de/password_reset.text.txt:2: syntax error: Unclosed tag`,
        `EMAIL_TEMPLATES_DIR: ${folder}/de/verify_email.html:2: unknown variable "linkk"`,
        `EMAIL_TEMPLATES_DIR: ${folder}/fr: not a locale folder`,
      ])
        assert.ok(output.includes(problem), `${problem}\nnot in:\n${output}`);
    });
  }
});
