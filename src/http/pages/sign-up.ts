import { escapeHtml } from '../../security/html-escape.ts';
import { emailField, hrefWithReturnTo, newPasswordField, renderForm } from './forms.ts';
import { renderMessagePage, renderPage, type Site } from './layout.ts';
import { message, pageLanguage } from './messages.ts';

export interface SignUpState {
  readonly email?: string;
  readonly returnTo: string | null;
  readonly minimumPasswordLength: number;
  readonly errors?: { readonly email?: string; readonly password?: string };
  /** A refusal of the whole form (a spent budget): said once, above the form. */
  readonly formError?: string;
}

export function renderSignUpPage(site: Site, state: SignUpState): string {
  const form = renderForm({
    action: '/sign-up',
    focusFirstError: true,
    ...(state.formError !== undefined && { formError: state.formError, focus: 'email' }),
    hidden: { return_to: state.returnTo ?? undefined, locale: pageLanguage() },
    fields: [
      emailField({ value: state.email, error: state.errors?.email }),
      newPasswordField({
        name: 'password',
        label: message('field.password'),
        error: state.errors?.password,
        minimumLength: state.minimumPasswordLength,
      }),
    ],
    submit: message('signUp.submit'),
  });
  return renderPage(site, {
    title: message('signUp.title'),
    heading: message('signUp.heading', { product: site.productName }),
    body: `${form}
<div class="links">
<p>${escapeHtml(message('signUp.haveAccount'))} <a href="${escapeHtml(hrefWithReturnTo('/sign-in', state.returnTo))}">${escapeHtml(message('signUp.signIn'))}</a></p>
</div>`,
  });
}

/** The same page for a new address and a registered one: the difference goes out by email. */
export function renderSignUpSentPage(site: Site, email: string, returnTo: string | null): string {
  return renderMessagePage(site, message('signUp.sentTitle'), message('signUp.sent', { email }), {
    href: hrefWithReturnTo('/sign-in', returnTo),
    label: message('signUp.continue'),
  });
}
