import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSecretBox } from '../../src/security/secret-box.ts';

const oldKey = 'the key before the rotation, 32 bytes or more';
const newKey = 'the key after the rotation, 32 bytes or more!';
const otherKey = 'a key this deployment never had, 32 bytes long';

describe('secret box with a key list (SECRET_KEY, then SECRET_KEY_PREVIOUS)', () => {
  test('what a previous key sealed opens with the list that names it', () => {
    const sealed = createSecretBox(oldKey, 'email-outbox').seal('queued before the rotation');
    assert.equal(
      createSecretBox([newKey, oldKey], 'email-outbox').open(sealed),
      'queued before the rotation',
    );
  });

  test('new data is sealed under the current key: the previous key alone cannot open it', () => {
    const sealed = createSecretBox([newKey, oldKey], 'email-outbox').seal('queued after the rotation');
    assert.equal(createSecretBox(oldKey, 'email-outbox').open(sealed), null);
    assert.equal(createSecretBox(newKey, 'email-outbox').open(sealed), 'queued after the rotation');
  });

  test('a key that is not in the list opens nothing, nor does another purpose, nor an altered box', () => {
    const sealed = createSecretBox(otherKey, 'email-outbox').seal('not ours');
    assert.equal(createSecretBox([newKey, oldKey], 'email-outbox').open(sealed), null);
    const signingKey = createSecretBox([newKey, oldKey], 'jwt-signing-keys').seal('a signing key');
    assert.equal(createSecretBox([newKey, oldKey], 'email-outbox').open(signingKey), null);
    const altered = Buffer.from(createSecretBox(newKey, 'email-outbox').seal('intact'), 'base64');
    altered[altered.length - 1] = (altered.at(-1) ?? 0) ^ 1;
    assert.equal(createSecretBox([newKey, oldKey], 'email-outbox').open(altered.toString('base64')), null);
  });

  test('an empty key list is refused', () => {
    assert.throws(() => createSecretBox([], 'email-outbox'), /at least one key/);
  });
});
