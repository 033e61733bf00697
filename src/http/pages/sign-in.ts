import { escapeHtml } from '../../security/html-escape.ts';
import { currentPasswordField, emailField, hrefWithReturnTo, renderForm } from './forms.ts';
import { renderPage, type Site } from './layout.ts';
import { message } from './messages.ts';

export interface SignInState {
  readonly email?: string;
  readonly returnTo: string | null;
  readonly errors?: { readonly email?: string; readonly password?: string };
  /** A refusal of the address and password together (or a spent budget): said once, above the form. */
  readonly formError?: string;
  readonly notice?: string;
}

export function renderSignInPage(site: Site, state: SignInState): string {
  const notice =
    state.notice === undefined ? '' : `<p class="notice" role="status">${escapeHtml(state.notice)}</p>\n`;
  const form = renderForm({
    action: '/sign-in',
    focusFirstError: true,
    ...(state.formError !== undefined && { formError: state.formError, focus: 'password' }),
    hidden: { return_to: state.returnTo ?? undefined },
    fields: [
      emailField({ value: state.email, error: state.errors?.email }),
      currentPasswordField({
        name: 'password',
        label: message('field.password'),
        error: state.errors?.password,
      }),
    ],
    submit: message('signIn.submit'),
  });
  return renderPage(site, {
    title: message('signIn.title'),
    heading: message('signIn.heading', { product: site.productName }),
    body: `${notice}${form}
<div class="links">
<p><a href="/forgot-password">${escapeHtml(message('signIn.forgot'))}</a></p>
<p>${escapeHtml(message('signIn.noAccount'))} <a href="${escapeHtml(hrefWithReturnTo('/sign-up', state.returnTo))}">${escapeHtml(message('signIn.createAccount'))}</a></p>
</div>`,
  });
}
