import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EmailMessage } from '../../src/flows/model.ts';
import { renderEmail } from '../../src/email/templates/index.ts';

const options = { productName: 'Latchkey' };

/** When the token behind the link expires, as the flow writes it into the message. */
const expiresAt = '2026-12-01T20:15:42.123Z';

function buildMessages(to: string, url: string): EmailMessage[] {
  return [
    { template: 'verify_email', to, params: { url, expiresAt } },
    { template: 'already_registered', to, params: { resetUrl: url, expiresAt } },
    { template: 'password_reset', to, params: { url, expiresAt } },
    { template: 'password_changed', to, params: { resetUrl: url } },
    { template: 'email_change_confirm', to, params: { url, expiresAt } },
    { template: 'email_change_notice', to, params: { url, changed: false, expiresAt } },
    { template: 'email_change_notice', to, params: { url, changed: true, expiresAt } },
    { template: 'email_change_attempted', to, params: { resetUrl: url } },
    { template: 'account_deleted', to, params: { url, expiresAt } },
  ];
}

describe('email templates', () => {
  for (const message of buildMessages(
    'ada@example.com',
    'https://auth.example.com/links/abc123?token=t0k3n',
  )) {
    describe(message.template, () => {
      const rendered = renderEmail(message, options);
      const sentUrl = ('url' in message.params ? message.params.url : message.params.resetUrl) ?? '';
      // The link says which language the email speaks, so the page it opens speaks it too.
      const url = `${sentUrl}&lang=en`;

      test('has a subject, a plain-text part and an HTML part', () => {
        assert.ok(rendered.subject.trim().length > 0);
        assert.ok(rendered.text.trim().length > 0);
        assert.ok(rendered.html.trim().length > 0);
        assert.doesNotMatch(rendered.subject, /[\r\n]/);
      });

      test('puts the link alone on a line of the plain text, so a terminal makes it clickable', () => {
        assert.ok(rendered.text.split('\n').includes(url), rendered.text);
      });

      test('links the URL from a button and shows it as text in the HTML', () => {
        const htmlUrl = url.replaceAll('&', '&amp;');
        assert.ok(rendered.html.includes(`href="${htmlUrl}"`));
        assert.ok(rendered.html.includes(`>${htmlUrl}</a>`));
      });

      test('names the product and the recipient', () => {
        assert.ok(rendered.text.includes('Latchkey'));
        assert.ok(rendered.text.includes('ada@example.com'));
        assert.ok(rendered.html.includes('ada@example.com'));
      });

      test('renders the same email every time', () => {
        assert.deepEqual(renderEmail(message, options), rendered);
      });
    });
  }

  test('verify_email states when its link expires and that ignoring it does nothing', () => {
    const { text, subject } = renderEmail(buildMessages('a@example.com', 'https://x.test/v')[0]!, options);
    assert.match(subject, /Verify your email address/);
    assert.match(text, /The link is valid until 20:15 UTC on 1 December 2026\./);
    assert.match(text, /did not create an account, ignore this email: nothing happens/);
  });

  test('already_registered offers a reset link, states when it expires and says to ignore it if it was not you', () => {
    const { text } = renderEmail(buildMessages('a@example.com', 'https://x.test/r')[1]!, options);
    assert.match(text, /Someone, maybe you, tried to register/);
    assert.match(text, /already have an account/);
    assert.match(text, /forgot your password/);
    assert.match(text, /The link is valid until 20:15 UTC on 1 December 2026\./);
    assert.match(text, /If it was not you, ignore/);
  });

  test('password_reset states when its link expires, that it works once, and that the password stays if ignored', () => {
    const { text } = renderEmail(buildMessages('a@example.com', 'https://x.test/r')[2]!, options);
    assert.match(text, /The link is valid until 20:15 UTC on 1 December 2026 and works once\./);
    assert.match(text, /If you did not ask, ignore this email: your password stays/);
  });

  test('password_changed says every session was signed out and offers a reset', () => {
    const { text } = renderEmail(buildMessages('a@example.com', 'https://x.test/r')[3]!, options);
    assert.match(text, /password .* was just changed/);
    assert.match(text, /every session was signed out/);
    assert.match(text, /If it was not you, reset your password now/);
  });

  test('the stated deadline is rounded down to the minute, so it never promises a moment the link is dead', () => {
    for (const [deadline, stated] of [
      ['2026-03-09T07:05:00.000Z', '07:05 UTC on 9 March 2026'],
      ['2026-03-09T07:05:59.999Z', '07:05 UTC on 9 March 2026'],
      ['2026-12-31T23:59:30.000Z', '23:59 UTC on 31 December 2026'],
    ] as const) {
      const message: EmailMessage = {
        template: 'password_reset',
        to: 'a@example.com',
        params: { url: 'https://x.test/r', expiresAt: deadline },
      };
      assert.ok(
        renderEmail(message, options).text.includes(`valid until ${stated} and works once`),
        deadline,
      );
    }
  });

  test('the email change notices state their link expiry; the old address is told whether the change is pending or done', () => {
    const [confirm, pending, done] = buildMessages('a@example.com', 'https://x.test/c').slice(4);
    assert.match(
      renderEmail(confirm!, options).text,
      /valid until 20:15 UTC on 1 December 2026 and works once/,
    );
    const pendingText = renderEmail(pending!, options).text;
    assert.match(pendingText, /Nothing changes until that address confirms/);
    assert.match(pendingText, /valid until 20:15 UTC on 1 December 2026/);
    const doneText = renderEmail(done!, options).text;
    assert.match(doneText, /has just been moved to another address/);
    assert.match(doneText, /sends you a link to set a new password/);
  });

  test('a message queued without an expiry (by an older version) promises no deadline at all', () => {
    for (const message of [
      { template: 'verify_email', to: 'a@example.com', params: { url: 'https://x.test/v' } },
      { template: 'already_registered', to: 'a@example.com', params: { resetUrl: 'https://x.test/r' } },
      { template: 'password_reset', to: 'a@example.com', params: { url: 'https://x.test/r' } },
    ] satisfies EmailMessage[]) {
      const { text, html } = renderEmail(message, options);
      assert.match(text, /The link is valid for a limited time/);
      assert.doesNotMatch(text, /hour|UTC/);
      assert.match(html, /The link is valid for a limited time/);
    }
  });

  describe('escapes HTML in every interpolated value', () => {
    const hostileAddress = '"<img src=x onerror=alert(1)>"@example.com';
    const hostileUrl = 'https://auth.example.com/reset?token=a"b&next=<script>alert(1)</script>';
    for (const message of buildMessages(hostileAddress, hostileUrl)) {
      test(message.template, () => {
        const { html, text } = renderEmail(message, { productName: 'Latch<b>key</b> & Co' });
        assert.ok(!html.includes('<img'), 'address not escaped');
        assert.ok(!html.includes('<script'), 'URL not escaped');
        assert.ok(!html.includes('<b>key'), 'product name not escaped');
        assert.ok(!html.includes('a"b'), 'quote in URL would end the href attribute');
        assert.ok(html.includes('&quot;&lt;img src=x onerror=alert(1)&gt;&quot;@example.com'));
        assert.ok(html.includes('token=a&quot;b&amp;next=&lt;script&gt;'));
        assert.ok(html.includes('Latch&lt;b&gt;key&lt;/b&gt; &amp; Co'));
        // The plain-text part is not HTML: it carries the values verbatim.
        assert.ok(text.split('\n').includes(`${hostileUrl}&lang=en`));
      });
    }
  });

  test('refuses to render a link that is not an absolute http(s) URL', () => {
    for (const url of ['javascript:alert(1)', 'data:text/html,hi', '/relative/path', 'not a url']) {
      assert.throws(() =>
        renderEmail({ template: 'password_reset', to: 'a@example.com', params: { url } }, options),
      );
    }
  });
});
