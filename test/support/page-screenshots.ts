// `npm run pages:screenshots`: every hosted page, desktop and phone sized, into docs/pages/<page>-<size>.png.
// Runs the whole service in this process (embedded backend, real SMTP capture) and Debian's Chromium.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './browser.ts';
import { startTestService } from './service.ts';

const outputFolder = join(import.meta.dirname, '..', '..', 'docs', 'pages');
const sizes = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
} as const;
const email = 'ada@example.com';
const password = 'correct horse battery staple';
const newPassword = 'another long and unusual passphrase';
const newEmail = 'ada.lovelace@example.com';

async function emailedLink(service: Awaited<ReturnType<typeof startTestService>>, to: string, path: string) {
  const message = await service.smtp.waitForEmail(
    (candidate) => candidate.to === to && candidate.links.some((link) => link.includes(`${path}?token=`)),
  );
  const link = message.links.find((candidate) => candidate.includes(`${path}?token=`));
  if (link === undefined) throw new Error(`no ${path} link`);
  return link;
}

const service = await startTestService('embedded');
const browser = await launchChromium();
try {
  mkdirSync(outputFolder, { recursive: true });
  const context = await browser.newContext({ baseURL: service.baseUrl });
  const page = await context.newPage();
  const shoot = async (name: string): Promise<void> => {
    for (const [size, viewport] of Object.entries(sizes)) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(outputFolder, `${name}-${size}.png`), fullPage: true });
    }
    console.log(`docs/pages/${name}-{desktop,phone}.png`);
  };

  await page.goto('/sign-up');
  await shoot('sign-up');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  await shoot('sign-up-sent');

  await page.goto(await emailedLink(service, email, '/verify-email'));
  await shoot('verify-email');
  await page.getByRole('button').click();
  await page.getByRole('heading', { name: 'Email verified' }).waitFor();
  await shoot('verify-email-done');
  await page.goto('/verify-email?token=expired-or-used');
  await shoot('link-not-valid');

  await page.goto('/sign-in');
  await shoot('sign-in');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The email address or password is not right.').first().waitFor();
  await shoot('sign-in-error');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/account');

  await fetch(`${service.baseUrl}/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Version/18.0 Mobile Safari/604.1',
    },
    body: JSON.stringify({ email, password }),
  });
  await page.reload();
  await shoot('account');
  await page.locator('#password-current_password').fill('not my password');
  await page.locator('#password-new_password').fill('short');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Your current password is not right.').first().waitFor();
  await shoot('account-error');

  // The account's language: saved as German (the notice, the page in German), then back to English.
  await page.goto('/account');
  await page.getByLabel('Language of your account').selectOption('de');
  await page.getByRole('button', { name: 'Save language' }).click();
  await page.getByText('Gespeichert: Ihre Seiten und E-Mails sind ab jetzt auf Deutsch.').waitFor();
  await shoot('account-language-saved');
  await page.getByLabel('Sprache Ihres Kontos').selectOption('en');
  await page.getByRole('button', { name: 'Sprache speichern' }).click();
  await page.getByText('Saved: your pages and emails are in English from now on.').waitFor();

  await page.locator('#email-new_email').fill(newEmail);
  await page.locator('#email-current_password').fill(password);
  await page.getByRole('button', { name: 'Send confirmation link' }).click();
  await page.getByText('If the new address can be used').waitFor();
  await page.goto(await emailedLink(service, newEmail, '/confirm-email-change'));
  await shoot('confirm-email-change');
  await page.goto(await emailedLink(service, email, '/cancel-email-change'));
  await shoot('cancel-email-change');
  await page.getByRole('button').click();
  await page.getByRole('heading', { name: 'Change stopped' }).waitFor();

  await page.goto('/forgot-password');
  await shoot('forgot-password');
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button').click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  await shoot('forgot-password-sent');
  await page.goto(await emailedLink(service, email, '/reset-password'));
  await shoot('reset-password');
  await page.getByLabel('New password').fill(newPassword);
  await page.getByRole('button').click();
  await page.getByRole('heading', { name: 'Password changed' }).waitFor();
  await shoot('reset-password-done');

  await page.goto('/sign-in');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(newPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/account');
  await page.locator('#delete-current_password').fill(newPassword);
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.getByRole('heading', { name: 'Account deleted' }).waitFor();
  await shoot('account-deleted');
  await page.goto(await emailedLink(service, email, '/restore-account'));
  await shoot('restore-account');
  await context.close();

  // The second language, as a browser set to German sees it.
  const german = await browser.newContext({ baseURL: service.baseUrl, locale: 'de-DE' });
  const germanPage = await german.newPage();
  await germanPage.goto('/sign-in');
  await germanPage.getByRole('heading', { name: 'Bei Latchkey anmelden' }).waitFor();
  for (const [size, viewport] of Object.entries(sizes)) {
    await germanPage.setViewportSize(viewport);
    await germanPage.screenshot({ path: join(outputFolder, `sign-in-de-${size}.png`), fullPage: true });
  }
  console.log('docs/pages/sign-in-de-{desktop,phone}.png');
  await german.close();
} finally {
  await browser.close();
  await service.close();
}
