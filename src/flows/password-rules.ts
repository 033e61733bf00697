import { FlowError } from './errors.ts';
import { findPasswordProblem, type PasswordPolicy } from '../security/password-policy.ts';

/**
 * Refuses a new password (registration, reset) with the code of the rule it breaks. `emailKey` is the
 * account's address: the one being registered, or the one the reset token belongs to.
 */
export function assertAcceptablePassword(policy: PasswordPolicy, password: string, emailKey: string): void {
  const problem = findPasswordProblem(policy, password, emailKey);
  if (problem !== null) throw new FlowError(problem.rule, problem.message);
}
