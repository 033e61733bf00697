import { escapeHtml } from '../../security/html-escape.ts';
import { passwordMaximumLength } from '../../security/password-policy.ts';
import { emailMaximumLength } from '../../security/email-address.ts';
import { message } from './messages.ts';

/** One input of a page's form. A password field is never refilled, whatever `value` says. */
export interface Field {
  readonly name: string;
  readonly label: string;
  readonly type: 'email' | 'password' | 'text';
  readonly autocomplete: 'email' | 'current-password' | 'new-password' | 'off';
  readonly value?: string;
  readonly error?: string;
  readonly hint?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface Form {
  readonly action: string;
  /** A distinct prefix for the field ids when a page holds several forms. */
  readonly idPrefix?: string;
  readonly fields: readonly Field[];
  readonly hidden?: Readonly<Record<string, string | undefined>>;
  readonly submit: string;
  readonly buttonClass?: string;
  /** The first invalid field is focused on load (the autofocus attribute works without script). */
  readonly focusFirstError?: boolean;
  /**
   * A refusal of the whole form (wrong address or password, a spent budget): said once, in the summary, with no
   * field marked; the field named by `focus` takes the focus so the person can type again at once.
   */
  readonly formError?: string;
  readonly focus?: string;
}

/** An address field, refilled with what was typed. */
export function emailField(options: {
  readonly name?: string;
  readonly label?: string;
  readonly value?: string | undefined;
  readonly error?: string | undefined;
}): Field {
  return {
    name: options.name ?? 'email',
    label: options.label ?? message('field.email'),
    type: 'email',
    autocomplete: 'email',
    value: options.value,
    error: options.error,
    maxLength: emailMaximumLength,
  };
}

/** The password the person has now (sign-in, re-authentication). */
export function currentPasswordField(options: {
  readonly name?: string;
  readonly label?: string;
  readonly error?: string | undefined;
}): Field {
  return {
    name: options.name ?? 'current_password',
    label: options.label ?? message('field.currentPassword'),
    type: 'password',
    autocomplete: 'current-password',
    error: options.error,
    maxLength: passwordMaximumLength,
  };
}

/** A password being chosen, with the deployment's rule as its hint. */
export function newPasswordField(options: {
  readonly name?: string;
  readonly label?: string;
  readonly error?: string | undefined;
  readonly minimumLength: number;
}): Field {
  return {
    name: options.name ?? 'new_password',
    label: options.label ?? message('field.newPassword'),
    type: 'password',
    autocomplete: 'new-password',
    error: options.error,
    hint: message('field.passwordHint', { minimum: options.minimumLength }),
    minLength: options.minimumLength,
    maxLength: passwordMaximumLength,
  };
}

/**
 * A form whose invalid fields say so next to themselves (`aria-invalid`, `aria-describedby`); the summary above the
 * form names them, each a link to its field, without repeating the words (a screen reader reads each problem
 * once: the summary as an alert, the field's words when it takes the focus). A refusal of the whole form is said
 * in the summary alone.
 */
export function renderForm(form: Form): string {
  const prefix = form.idPrefix ?? '';
  const invalid = form.fields.filter((field) => field.error !== undefined);
  const items = [
    ...(form.formError === undefined ? [] : [`<p>${escapeHtml(form.formError)}</p>`]),
    ...(invalid.length === 0
      ? []
      : [
          `<ul>${invalid.map((field) => `<li><a href="#${prefix}${field.name}">${escapeHtml(field.label)}</a></li>`).join('')}</ul>`,
        ]),
  ];
  const summary =
    items.length === 0
      ? ''
      : `<div class="error-summary" role="alert">
<h2>${escapeHtml(message('form.errorSummary'))}</h2>
${items.join('\n')}
</div>
`;
  const focused =
    form.focusFirstError === true && invalid[0] !== undefined
      ? invalid[0]
      : form.fields.find((field) => form.formError !== undefined && field.name === form.focus);
  const hidden = Object.entries(form.hidden ?? {})
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n');
  const fields = form.fields.map((field) => renderField(field, prefix, field === focused)).join('\n');
  const buttonClass = form.buttonClass === undefined ? '' : ` class="${form.buttonClass}"`;
  // novalidate: the service's own words next to the field, the same with JavaScript on or off.
  return `${summary}<form method="post" action="${escapeHtml(form.action)}" novalidate>
${hidden}
${fields}
<button type="submit"${buttonClass}>${escapeHtml(form.submit)}</button>
</form>`;
}

function renderField(field: Field, prefix: string, focus: boolean): string {
  const id = `${prefix}${field.name}`;
  const described: string[] = [];
  if (field.hint !== undefined) described.push(`${id}-hint`);
  if (field.error !== undefined) described.push(`${id}-error`);
  const attributes = [
    `id="${id}"`,
    `name="${field.name}"`,
    `type="${field.type}"`,
    `autocomplete="${field.autocomplete}"`,
    'required',
    field.type === 'email' ? 'spellcheck="false" autocapitalize="none"' : '',
    field.minLength === undefined ? '' : `minlength="${field.minLength}"`,
    field.maxLength === undefined ? '' : `maxlength="${field.maxLength}"`,
    field.type !== 'password' && field.value !== undefined ? `value="${escapeHtml(field.value)}"` : '',
    field.error === undefined ? '' : 'aria-invalid="true"',
    described.length === 0 ? '' : `aria-describedby="${described.join(' ')}"`,
    focus ? 'autofocus' : '',
  ].filter(Boolean);
  return [
    `<label for="${id}">${escapeHtml(field.label)}</label>`,
    `<input ${attributes.join(' ')}>`,
    field.hint === undefined ? '' : `<p class="hint" id="${id}-hint">${escapeHtml(field.hint)}</p>`,
    field.error === undefined ? '' : `<p class="field-error" id="${id}-error">${escapeHtml(field.error)}</p>`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** A link, with the checked return address carried along when there is one. */
export function hrefWithReturnTo(path: string, returnTo: string | null): string {
  return returnTo === null ? path : `${path}?${new URLSearchParams({ return_to: returnTo }).toString()}`;
}
