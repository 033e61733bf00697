import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword, verifyAgainstDummyHash, verifyPassword } from '../../src/security/passwords.ts';
import {
  tutorialLongPassword,
  tutorialLongPasswordBcrypt,
  tutorialLongPasswordSharingFirst72Bytes,
} from '../support/tutorial-password-hashes.ts';

// Made by passlib 1.7.4 (the tutorial's CryptContext(schemes=["bcrypt"])) for the password "testpassword123".
const tutorialBcrypt = '$2b$12$UT/.TGTdO/OyOs00GYigoun4mwLOqHXN0yQi6cz0kcFLi6GvnK/TK';
const tutorialBcrypt2a = '$2a$10$3s9gXfZ0bXRFfw0.Wkrxk.gEXynA/NUIO5tr5J7kYVcDGnLiFdo8S';
const tutorialBcryptSha256 =
  '$bcrypt-sha256$v=2,t=2b,r=10$YiVHMFA6XDuYPEGm0Zyrg.$pEY5n8JEF1FUAiMvfXiQcqClCUgtv/C';

describe('password hashing', () => {
  test('new hashes are argon2id with m=19456 KiB, t=2, p=1 and verify only the right password', async () => {
    const hash = await hashPassword('correct horse battery');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(await verifyPassword(hash, 'correct horse battery'), {
      valid: true,
      needsRehash: false,
    });
    assert.equal((await verifyPassword(hash, 'correct horse batterY')).valid, false);
  });

  test('passwords are NFKC-normalised: the same password typed as full-width or composed characters matches', async () => {
    const hash = await hashPassword('ｐａｓｓｗｏｒｄ１２３ café');
    assert.equal((await verifyPassword(hash, 'password123 cafe\u0301')).valid, true);
  });

  test('passwords are never truncated: a long password differs from its prefix', async () => {
    const long = 'x'.repeat(100);
    const hash = await hashPassword(long);
    assert.equal((await verifyPassword(hash, long.slice(0, 72))).valid, false);
    assert.equal((await verifyPassword(hash, long)).valid, true);
  });

  test("the tutorial's passlib bcrypt hashes verify and ask for a rehash", async () => {
    for (const hash of [tutorialBcrypt, tutorialBcrypt2a, tutorialBcryptSha256]) {
      assert.deepEqual(
        await verifyPassword(hash, 'testpassword123'),
        { valid: true, needsRehash: true },
        hash,
      );
      assert.equal((await verifyPassword(hash, 'testpassword124')).valid, false, hash);
    }
  });

  test("a tutorial password over 72 bytes verifies against passlib's hash of its first 72 bytes and asks for a rehash", async () => {
    assert.deepEqual(await verifyPassword(tutorialLongPasswordBcrypt, tutorialLongPassword), {
      valid: true,
      needsRehash: true,
    });
    // The cut is in bytes: "è" (C3 A8) shares its first byte with "é" (C3 A9), the last one passlib hashed.
    assert.equal(
      (await verifyPassword(tutorialLongPasswordBcrypt, tutorialLongPassword.replace('café', 'cafè'))).valid,
      true,
    );
    // Changing any of the first 72 bytes fails, down to the first byte of the "é" that the limit splits.
    const bytes = Buffer.from(tutorialLongPassword, 'utf8');
    for (const changed of [
      tutorialLongPassword.replace('the tutorial', 'The tutorial'),
      tutorialLongPassword.replace('café', 'cafe'),
      bytes.subarray(0, 71).toString('utf8'),
      // Cutting characters instead of bytes turns the split "é" into U+FFFD, which is not what passlib hashed.
      bytes.subarray(0, 72).toString('utf8'),
    ]) {
      assert.equal((await verifyPassword(tutorialLongPasswordBcrypt, changed)).valid, false, changed);
    }
  });

  test('after the rehash only the whole password works, not another one sharing its first 72 bytes', async () => {
    // As with passlib, the legacy hash cannot tell them apart.
    assert.equal(
      (await verifyPassword(tutorialLongPasswordBcrypt, tutorialLongPasswordSharingFirst72Bytes)).valid,
      true,
    );
    const rehashed = await hashPassword(tutorialLongPassword);
    assert.deepEqual(await verifyPassword(rehashed, tutorialLongPassword), {
      valid: true,
      needsRehash: false,
    });
    assert.equal((await verifyPassword(rehashed, tutorialLongPasswordSharingFirst72Bytes)).valid, false);
  });

  test('an argon2id hash with weaker parameters asks for a rehash', async () => {
    const { hash } = await import('@node-rs/argon2');
    const weak = await hash('correct horse battery', {
      algorithm: 2,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    assert.deepEqual(await verifyPassword(weak, 'correct horse battery'), { valid: true, needsRehash: true });
  });

  test('a malformed stored hash is a failed check, not an exception', async () => {
    for (const hash of ['', 'plaintext', '$argon2id$broken', '$2b$12$short']) {
      assert.deepEqual(await verifyPassword(hash, 'whatever password'), { valid: false, needsRehash: false });
    }
    await verifyAgainstDummyHash('any password at all');
  });
});
