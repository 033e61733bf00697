import { FlowError, type ErrorCode } from '../../flows/errors.ts';
import { isMessageKey, message } from './messages.ts';

/** A flow's refusal in words a person understands, and the field of the form it concerns. */
export interface Refusal {
  readonly field: string;
  readonly text: string;
}

/**
 * Words for a refusal of the flows the pages call. `fieldOf` says which field a code concerns on this form
 * (the password rules concern the new password, a wrong current password the current one).
 */
export function describeRefusal(
  error: FlowError,
  fieldOf: (code: ErrorCode) => string,
  options: { readonly minimumPasswordLength: number },
): Refusal {
  const field = fieldOf(error.code);
  if (error.code === 'invalid_request') return { field, text: message('error.emailInvalid') };
  if (error.code === 'rate_limited') {
    const minutes = Math.max(1, Math.ceil((error.retryAfterSeconds ?? 60) / 60));
    return { field, text: message('error.rate_limited', { minutes }) };
  }
  const key = `error.${error.code}`;
  return {
    field,
    text: isMessageKey(key)
      ? message(key, { minimum: options.minimumPasswordLength })
      : message('error.other'),
  };
}
