export { createVerifier, type LatchkeyClaims, type Verifier, type VerifierOptions } from './verifier.ts';
export { VerificationError, type VerificationErrorCode } from './errors.ts';
export { authenticateRequest, readBearerToken, describeRefusal, type Refusal } from './answers.ts';
