import type { SessionView } from '../../flows/sessions.ts';
import { escapeHtml } from '../../security/html-escape.ts';
import { currentPasswordField, emailField, newPasswordField, renderForm } from './forms.ts';
import { renderPage, type Site } from './layout.ts';
import { message, pageLanguage } from './messages.ts';
import { localeNames, supportedLocales, type Locale } from '../../security/locale.ts';

/** Which of the account page's forms a refusal concerns, and the words next to its field. */
export interface AccountFormErrors {
  readonly password?: { readonly current_password?: string; readonly new_password?: string };
  readonly email?: {
    readonly new_email?: string;
    readonly current_password?: string;
    readonly value?: string;
  };
  readonly deletion?: { readonly current_password?: string };
  readonly locale?: string;
}

export interface AccountState {
  readonly email: string;
  readonly isVerified: boolean;
  readonly sessions: readonly SessionView[];
  readonly minimumPasswordLength: number;
  readonly now: Date;
  /** The account's own language (null: none chosen yet, DEFAULT_LOCALE applies). */
  readonly locale: Locale | null;
  readonly notice?: string;
  readonly errors?: AccountFormErrors;
}

/** The signed-in person's address, their sessions, and the forms that change the account. */
export function renderAccountPage(site: Site, state: AccountState): string {
  const errors = state.errors ?? {};
  const notice =
    state.notice === undefined ? '' : `<p class="notice" role="status">${escapeHtml(state.notice)}</p>\n`;
  const others = state.sessions.filter((session) => !session.current);
  const status = state.isVerified
    ? `<span class="status">${escapeHtml(message('account.verified'))}</span>`
    : `<span class="status pending">${escapeHtml(message('account.unverified'))}</span>`;
  const sessions = state.sessions.map((session) => renderSession(session, state.now)).join('\n');
  const endOthers =
    others.length === 0
      ? `<p class="hint">${escapeHtml(message('account.noOthers'))}</p>`
      : `<form method="post" action="/account/sessions/end-others"><button type="submit" class="secondary">${escapeHtml(message('account.endOthers'))}</button></form>`;
  return renderPage(site, {
    title: message('account.title'),
    heading: message('account.heading', { product: site.productName }),
    wide: true,
    body: `${notice}<p>${escapeHtml(message('account.address'))} <strong>${escapeHtml(state.email)}</strong> ${status}</p>
<form method="post" action="/sign-out"><button type="submit" class="secondary small">${escapeHtml(message('account.signOut'))}</button></form>

<h2 id="sessions">${escapeHtml(message('account.sessions'))}</h2>
<ul class="sessions">
${sessions}
</ul>
${endOthers}

<h2 id="password">${escapeHtml(message('account.changePassword'))}</h2>
<p class="hint">${escapeHtml(message('account.changePasswordNote'))}</p>
${renderForm({
  action: '/account/password',
  idPrefix: 'password-',
  focusFirstError: errors.password !== undefined,
  fields: [
    currentPasswordField({ error: errors.password?.current_password }),
    newPasswordField({ error: errors.password?.new_password, minimumLength: state.minimumPasswordLength }),
  ],
  submit: message('account.changePasswordSubmit'),
})}

<h2 id="email">${escapeHtml(message('account.changeEmail'))}</h2>
<p class="hint">${escapeHtml(message('account.changeEmailNote'))}</p>
${renderForm({
  action: '/account/email',
  idPrefix: 'email-',
  focusFirstError: errors.email !== undefined,
  fields: [
    emailField({
      name: 'new_email',
      label: message('field.newEmail'),
      value: errors.email?.value,
      error: errors.email?.new_email,
    }),
    currentPasswordField({ error: errors.email?.current_password }),
  ],
  submit: message('account.changeEmailSubmit'),
})}

<h2 id="language">${escapeHtml(message('account.language'))}</h2>
<p class="hint">${escapeHtml(message('account.languageNote'))}</p>
${renderLanguageForm(state.locale ?? pageLanguage(), errors.locale)}

<h2 id="delete">${escapeHtml(message('account.delete'))}</h2>
<p class="hint">${escapeHtml(message('account.deleteNote'))}</p>
${renderForm({
  action: '/account/delete',
  idPrefix: 'delete-',
  focusFirstError: errors.deletion !== undefined,
  fields: [currentPasswordField({ error: errors.deletion?.current_password })],
  submit: message('account.deleteSubmit'),
  buttonClass: 'danger',
})}`,
  });
}

/** The account's language: a select of every supported language, each named in its own language. */
function renderLanguageForm(selected: Locale, error: string | undefined): string {
  const options = supportedLocales
    .map(
      (locale) =>
        `<option value="${locale}" lang="${locale}"${locale === selected ? ' selected' : ''}>${escapeHtml(localeNames[locale])}</option>`,
    )
    .join('');
  const summary =
    error === undefined
      ? ''
      : `<div class="error-summary" role="alert">
<h2>${escapeHtml(message('form.errorSummary'))}</h2>
<ul><li><a href="#language-locale">${escapeHtml(message('field.language'))}</a></li></ul>
</div>
`;
  const invalid =
    error === undefined ? '' : ' aria-invalid="true" aria-describedby="language-locale-error" autofocus';
  const errorText =
    error === undefined ? '' : `\n<p class="field-error" id="language-locale-error">${escapeHtml(error)}</p>`;
  return `${summary}<form method="post" action="/account/locale">
<label for="language-locale">${escapeHtml(message('field.language'))}</label>
<select id="language-locale" name="locale"${invalid}>${options}</select>${errorText}
<button type="submit" class="secondary">${escapeHtml(message('account.languageSubmit'))}</button>
</form>`;
}

function renderSession(session: SessionView, now: Date): string {
  const device = describeDevice(session.userAgent);
  const started = describeTimeAgo(session.createdAt, now);
  const lastSeen = describeTimeAgo(session.lastSeenAt, now);
  const meta = [
    escapeHtml(message('account.sessionStarted')).replace('{when}', started.html),
    escapeHtml(message('account.sessionLastSeen')).replace('{when}', lastSeen.html),
    session.ip === null ? '' : escapeHtml(message('account.sessionFrom', { ip: session.ip })),
  ]
    .filter(Boolean)
    .join(', ');
  const action = session.current
    ? `<span class="status">${escapeHtml(message('account.sessionThis'))}</span>`
    : `<form method="post" action="/account/sessions/end">
<input type="hidden" name="session_id" value="${escapeHtml(session.id)}">
<button type="submit" class="secondary small" aria-label="${escapeHtml(message('account.endSessionLabel', { device, when: started.text }))}">${escapeHtml(message('account.endSession'))}</button>
</form>`;
  return `<li><div><div class="device">${escapeHtml(device)}</div><div class="meta">${meta}</div></div>${action}</li>`;
}

/** A short name for a User-Agent: the browser and system a person recognises, or the agent itself. */
function describeDevice(userAgent: string | null): string {
  if (userAgent === null || userAgent === '') return message('account.unknownDevice');
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : undefined;
  const system = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : undefined;
  if (browser === undefined) return userAgent.slice(0, 60);
  return system === undefined ? browser : message('account.deviceOn', { browser, system });
}

const relativeUnits: readonly { readonly unit: Intl.RelativeTimeFormatUnit; readonly seconds: number }[] = [
  { unit: 'day', seconds: 24 * 60 * 60 },
  { unit: 'hour', seconds: 60 * 60 },
  { unit: 'minute', seconds: 60 },
];

/**
 * "3 minutes ago" / "vor 3 Minuten" in the page language: a person reads how long ago without converting from
 * UTC; the exact UTC time stays in `<time datetime>` and its title, for whoever needs it. Rendered on the server,
 * so no script is needed; "now" is the server's clock, the same one the times were recorded by.
 */
function describeTimeAgo(at: Date, now: Date): { readonly text: string; readonly html: string } {
  const elapsedSeconds = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  const format = new Intl.RelativeTimeFormat(pageLanguage(), { numeric: 'auto' });
  const unit = relativeUnits.find((candidate) => elapsedSeconds >= candidate.seconds);
  const text =
    unit === undefined
      ? message('account.justNow')
      : format.format(-Math.floor(elapsedSeconds / unit.seconds), unit.unit);
  const iso = at.toISOString();
  const exact = message('account.timeUtc', { day: iso.slice(0, 10), time: iso.slice(11, 16) });
  return {
    text,
    html: `<time datetime="${iso}" title="${escapeHtml(exact)}">${escapeHtml(text)}</time>`,
  };
}
