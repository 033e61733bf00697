import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EmailMessage } from '../../src/flows/model.ts';
import { renderEmail } from '../../src/email/templates/index.ts';

const options = { productName: 'Latchkey' };

function buildMessages(to: string, url: string): EmailMessage[] {
  return [
    { template: 'verify_email', to, params: { url } },
    { template: 'already_registered', to, params: { resetUrl: url } },
    { template: 'password_reset', to, params: { url } },
    { template: 'password_changed', to, params: { resetUrl: url } },
  ];
}

describe('email templates', () => {
  for (const message of buildMessages(
    'ada@example.com',
    'https://auth.example.com/links/abc123?token=t0k3n',
  )) {
    describe(message.template, () => {
      const rendered = renderEmail(message, options);
      const url = 'url' in message.params ? message.params.url : message.params.resetUrl;

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
        assert.ok(rendered.html.includes(`href="${url}"`));
        assert.ok(rendered.html.includes(`>${url}</a>`));
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

  test('verify_email says the link lasts 24 hours and that ignoring it does nothing', () => {
    const { text, subject } = renderEmail(buildMessages('a@example.com', 'https://x.test/v')[0]!, options);
    assert.match(subject, /Verify your email address/);
    assert.match(text, /24 hours/);
    assert.match(text, /did not create an account, ignore this email: nothing happens/);
  });

  test('already_registered offers a reset link valid 1 hour and says to ignore it if it was not you', () => {
    const { text } = renderEmail(buildMessages('a@example.com', 'https://x.test/r')[1]!, options);
    assert.match(text, /Someone, maybe you, tried to register/);
    assert.match(text, /already have an account/);
    assert.match(text, /forgot your password/);
    assert.match(text, /1 hour/);
    assert.match(text, /If it was not you, ignore/);
  });

  test('password_reset says the link lasts 1 hour and the password stays if ignored', () => {
    const { text } = renderEmail(buildMessages('a@example.com', 'https://x.test/r')[2]!, options);
    assert.match(text, /1 hour/);
    assert.match(text, /If you did not ask, ignore this email: your password stays/);
  });

  test('password_changed says every session was signed out and offers a reset', () => {
    const { text } = renderEmail(buildMessages('a@example.com', 'https://x.test/r')[3]!, options);
    assert.match(text, /password .* was just changed/);
    assert.match(text, /every session was signed out/);
    assert.match(text, /If it was not you, reset your password now/);
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
        assert.ok(text.split('\n').includes(hostileUrl));
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
