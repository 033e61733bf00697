/**
 * An 80-byte password from the tutorial era: 71 ASCII bytes, then "é" (two bytes, the 72nd and 73rd), then
 * 7 ASCII bytes. bcrypt's 72-byte limit falls inside the "é".
 */
export const tutorialLongPassword =
  'the tutorial let me sign up with this long passphrase at the corner café in May';

/**
 * What passlib's bcrypt stored for `tutorialLongPassword`: a hash of its first 72 bytes only. Made once with
 * the `bcrypt` package, `bcrypt.hash(Buffer.from(tutorialLongPassword, 'utf8').subarray(0, 72), 12)`, which is
 * what passlib 1.7.4 (CryptContext(schemes=["bcrypt"]), 12 rounds, $2b$) did with a password over 72 bytes.
 */
export const tutorialLongPasswordBcrypt = '$2b$12$rNIrtnCFx/9fgHIyxzCuputfqaDeDMS1rJETrAf15olbweopEGV8i';

/**
 * A different password with the same first 72 bytes (the head up to and including "é"): passlib accepted it,
 * and the legacy hash still does; the argon2id hash that replaces it must not.
 */
export const tutorialLongPasswordSharingFirst72Bytes =
  'the tutorial let me sign up with this long passphrase at the corner café';
