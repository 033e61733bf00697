import { Type } from '@fastify/type-provider-typebox';
import { FlowError } from '../flows/errors.ts';
import { emailMaximumLength, parseEmailAddress, type EmailAddress } from '../security/email-address.ts';

export const EmailField = Type.String({
  minLength: 3,
  maxLength: emailMaximumLength,
  examples: ['user@example.com'],
});
/** Bounded so a 1 MB password is a 422, not a slow hash; the flow applies the real rule (8..128 after NFKC). */
export const PasswordField = Type.String({ minLength: 1, maxLength: 4096 });
export const TokenField = Type.String({ minLength: 1, maxLength: 512 });
/** Where a page may send the person afterwards: followed only for an origin in RETURN_TO_ORIGINS. */
export const ReturnToField = Type.Optional(
  Type.String({
    maxLength: 2048,
    description: 'An absolute URL on an origin listed in RETURN_TO_ORIGINS; anything else is ignored',
  }),
);

export const MessageResponse = Type.Object({ message: Type.String() });

export const UserResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  is_active: Type.Boolean(),
  is_verified: Type.Boolean(),
});

/** Email addresses are checked by one parser for every route, stricter than a JSON-schema format. */
export function readEmailAddress(input: string): EmailAddress {
  const parsed = parseEmailAddress(input);
  if (parsed === null) throw new FlowError('invalid_request', 'email: not a valid email address');
  return parsed;
}
