import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EmailTemplateFilesError, loadEmailTemplateFiles } from '../../src/email/template-files.ts';
import { renderEmail } from '../../src/email/templates/index.ts';
import type { EmailMessage } from '../../src/flows/model.ts';

// An operator's template folder (EMAIL_TEMPLATES_DIR) as start-up reads it, and the emails it renders.

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A fresh folder holding `files` (path → content). */
function writeTemplateFolder(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'latchkey-templates-'));
  folders.push(folder);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  return folder;
}

/** The problems start-up would list for `folder`, or [] when it loads. */
function problemsOf(folder: string): readonly string[] {
  try {
    loadEmailTemplateFiles(folder);
    return [];
  } catch (error) {
    assert.ok(error instanceof EmailTemplateFilesError, String(error));
    return error.problems;
  }
}

const expiresAt = '2026-12-01T20:15:42.123Z';
const germanVerification: EmailMessage = {
  template: 'verify_email',
  to: 'ada@example.com',
  locale: 'de',
  params: { url: 'https://auth.example.com/verify-email?token=t0k3n', expiresAt },
};
const options = { productName: 'Latchkey' };

describe('email template files', () => {
  test('a German subject and HTML replace the built-in ones; the text part stays built in', () => {
    const templateFiles = loadEmailTemplateFiles(
      writeTemplateFolder({
        'de/verify_email.subject.txt': 'Hallo von {{product_name}}\n',
        'de/verify_email.html': '<p>{{email}}</p>\n<a href="{{link}}">{{link_validity}}</a>\n',
      }),
    );
    const builtIn = renderEmail(germanVerification, options);
    const rendered = renderEmail(germanVerification, { ...options, templateFiles });
    assert.equal(rendered.subject, 'Hallo von Latchkey');
    assert.equal(
      rendered.html,
      '<p>ada@example.com</p>\n' +
        '<a href="https://auth.example.com/verify-email?token=t0k3n&amp;lang=de">Der Link ist gültig bis 20:15 UTC am 1. Dezember 2026</a>\n',
    );
    assert.equal(rendered.text, builtIn.text);
  });

  test('a file for one locale leaves the other locale and the other templates built in', () => {
    const templateFiles = loadEmailTemplateFiles(
      writeTemplateFolder({ 'de/verify_email.subject.txt': 'Hallo' }),
    );
    const english: EmailMessage = { ...germanVerification, locale: 'en' };
    assert.deepEqual(renderEmail(english, { ...options, templateFiles }), renderEmail(english, options));
    const reset: EmailMessage = {
      template: 'password_reset',
      to: 'ada@example.com',
      locale: 'de',
      params: { url: 'https://auth.example.com/reset-password?token=r', expiresAt },
    };
    assert.deepEqual(renderEmail(reset, { ...options, templateFiles }), renderEmail(reset, options));
  });

  test('in HTML every value arrives as text; in the text part as it is', () => {
    const templateFiles = loadEmailTemplateFiles(
      writeTemplateFolder({
        'en/verify_email.html': '<h1>{{product_name}}</h1><p>{{email}}</p>',
        'en/verify_email.text.txt': '{{product_name}} for {{email}}: {{link}}',
      }),
    );
    const hostile: EmailMessage = {
      template: 'verify_email',
      to: '"<script>alert(1)</script>"@example.com',
      params: { url: 'https://auth.example.com/verify-email?token=t', expiresAt },
    };
    const rendered = renderEmail(hostile, { productName: 'Acme <b>&</b>', templateFiles });
    assert.equal(
      rendered.html,
      '<h1>Acme &lt;b&gt;&amp;&lt;/b&gt;</h1><p>&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;@example.com</p>',
    );
    assert.equal(
      rendered.text,
      'Acme <b>&</b> for "<script>alert(1)</script>"@example.com: https://auth.example.com/verify-email?token=t&lang=en',
    );
  });

  test('a subject stays one line whatever a value holds, so no value can add a header', () => {
    const templateFiles = loadEmailTemplateFiles(
      writeTemplateFolder({ 'en/verify_email.subject.txt': 'Welcome to {{product_name}}!\n' }),
    );
    const { subject } = renderEmail(
      { ...germanVerification, locale: 'en' },
      { productName: 'Acme\r\nBcc: victim@example.com', templateFiles },
    );
    assert.equal(subject, 'Welcome to Acme Bcc: victim@example.com!');
  });

  test('sections follow the message: a deletion without a restore link, a change done or only asked for', () => {
    const templateFiles = loadEmailTemplateFiles(
      writeTemplateFolder({
        'en/account_deleted.text.txt': '{{#link}}restore: {{link}}{{/link}}{{^link}}gone for good{{/link}}',
        'en/email_change_notice.subject.txt': '{{#changed}}changed{{/changed}}{{^changed}}asked{{/changed}}',
      }),
    );
    const render = (message: EmailMessage) => renderEmail(message, { ...options, templateFiles });
    const to = 'ada@example.com';
    assert.equal(render({ template: 'account_deleted', to, params: { url: null } }).text, 'gone for good');
    assert.equal(
      render({ template: 'account_deleted', to, params: { url: 'https://a.test/restore?token=x' } }).text,
      'restore: https://a.test/restore?token=x&lang=en',
    );
    const notice = (changed: boolean): EmailMessage => ({
      template: 'email_change_notice',
      to,
      params: { url: 'https://a.test/cancel?token=x', changed },
    });
    assert.equal(render(notice(true)).subject, 'changed');
    assert.equal(render(notice(false)).subject, 'asked');
  });

  test('every problem of the folder is listed at once, each with its file and line', () => {
    const folder = writeTemplateFolder({
      'de/verify_email.html': '<p>{{email}}</p>\n<p>{{emial}}</p>\n',
      'de/password_reset.text.txt': 'Hallo\n\n{{#link}}\n{{link}}\n',
      'de/password_changed.subject.txt': 'Ihr Passwort\n{{product_name}}\n',
      'de/email_change_confirm.html': '<p>\n{{{email}}}</p>',
      'de/already_registered.text.txt': '{{> footer}}',
      'de/welcome.html': '<p>hi</p>',
      'de/notes.md': 'todo',
      'fr/verify_email.subject.txt': 'Bonjour',
      '.git/HEAD': 'ignored: dotfiles are not templates',
      'de/.verify_email.html.swp': 'ignored too',
    });
    symlinkSync(join(folder, 'nowhere.txt'), join(folder, 'de', 'account_deleted.text.txt'));
    assert.deepEqual(problemsOf(folder), [
      `${folder}/de/account_deleted.text.txt: cannot be read (ENOENT)`,
      `${folder}/de/already_registered.text.txt:1: partials are not supported: {{> footer}}`,
      `${folder}/de/email_change_confirm.html:2: "email" must be escaped in HTML: write {{email}}, not {{{email}}} or {{&email}}`,
      `${folder}/de/notes.md: not a template file; expected <template>.subject.txt, <template>.text.txt or <template>.html`,
      `${folder}/de/password_changed.subject.txt:2: a subject is one line (it becomes the Subject header)`,
      `${folder}/de/password_reset.text.txt:3: syntax error: Unclosed section "link"`,
      `${folder}/de/verify_email.html:2: unknown variable "emial"; verify_email offers product_name, email, locale, link, link_validity, expires_at`,
      `${folder}/de/welcome.html: unknown template "welcome"; known: verify_email, already_registered, password_reset, password_changed, email_change_confirm, email_change_notice, email_change_attempted, account_deleted`,
      `${folder}/fr: not a locale folder; expected only folders named en, de`,
    ]);
  });

  test('a variable only some emails offer is refused in the others', () => {
    const folder = writeTemplateFolder({
      'en/password_changed.text.txt': 'Reset: {{link}}\n{{link_validity}}\n',
      'en/verify_email.text.txt': '{{#changed}}x{{/changed}}',
    });
    assert.deepEqual(problemsOf(folder), [
      `${folder}/en/password_changed.text.txt:2: unknown variable "link_validity"; password_changed offers product_name, email, locale, link`,
      `${folder}/en/verify_email.text.txt:1: unknown variable "changed"; verify_email offers product_name, email, locale, link, link_validity, expires_at`,
    ]);
  });

  test('an unclosed tag, an empty subject and a missing folder are named too', () => {
    const folder = writeTemplateFolder({
      'en/verify_email.text.txt': 'one\ntwo {{link\n',
      'en/verify_email.subject.txt': '  \n',
    });
    assert.deepEqual(problemsOf(folder), [
      `${folder}/en/verify_email.subject.txt:1: the subject is empty`,
      `${folder}/en/verify_email.text.txt:2: syntax error: Unclosed tag`,
    ]);
    assert.deepEqual(problemsOf(join(folder, 'missing')), [
      `${join(folder, 'missing')}: cannot be read (ENOENT)`,
    ]);
  });

  test('symbolic links are followed, as in a mounted Kubernetes ConfigMap', () => {
    const folder = writeTemplateFolder({ '..data/verify_email.subject.txt': 'Hi from {{product_name}}' });
    mkdirSync(join(folder, 'en'));
    symlinkSync(
      join(folder, '..data', 'verify_email.subject.txt'),
      join(folder, 'en', 'verify_email.subject.txt'),
    );
    const templateFiles = loadEmailTemplateFiles(folder);
    assert.equal(
      renderEmail({ ...germanVerification, locale: 'en' }, { ...options, templateFiles }).subject,
      'Hi from Latchkey',
    );
  });

  test('the example folder of docs/email-templates.md loads and renders', () => {
    const example = fileURLToPath(new URL('../../docs/email-templates-example/', import.meta.url));
    const templateFiles = loadEmailTemplateFiles(example);
    const rendered = renderEmail(germanVerification, { ...options, templateFiles });
    assert.equal(rendered.subject, 'Willkommen bei Latchkey: bitte bestätigen Sie Ihre Adresse');
    assert.match(rendered.html, /href="https:\/\/auth\.example\.com\/verify-email\?token=t0k3n&amp;lang=de"/);
  });
});
