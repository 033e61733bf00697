import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { hashPassword, verifyAgainstDummyHash, verifyPassword } from '../../src/security/passwords.ts';

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

  test('bcrypt would accept a 73-byte password by its 72-byte prefix; Latchkey refuses it', async () => {
    const prefix = 'y'.repeat(72);
    const hash = await bcrypt.hash(prefix, 4);
    assert.equal((await verifyPassword(hash, prefix)).valid, true);
    assert.equal((await verifyPassword(hash, `${prefix}z`)).valid, false);
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
