import { passwordMaximumLength } from '../../security/password-policy.ts';
import { escapeHtml } from '../../security/html-escape.ts';
import { hrefWithReturnTo, renderForm } from './forms.ts';
import { renderMessagePage, renderPage, type Site } from './layout.ts';
import { message } from './messages.ts';

export interface SignUpState {
  readonly email?: string;
  readonly returnTo: string | null;
  readonly minimumPasswordLength: number;
  readonly errors?: { readonly email?: string; readonly password?: string };
}

export function renderSignUpPage(site: Site, state: SignUpState): string {
  const form = renderForm({
    action: '/sign-up',
    focusFirstError: true,
    hidden: { return_to: state.returnTo ?? undefined },
    fields: [
      {
        name: 'email',
        label: message('field.email'),
        type: 'email',
        autocomplete: 'email',
        value: state.email,
        error: state.errors?.email,
        maxLength: 254,
      },
      {
        name: 'password',
        label: message('field.password'),
        type: 'password',
        autocomplete: 'new-password',
        error: state.errors?.password,
        hint: message('field.passwordHint', { minimum: state.minimumPasswordLength }),
        minLength: state.minimumPasswordLength,
        maxLength: passwordMaximumLength,
      },
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
