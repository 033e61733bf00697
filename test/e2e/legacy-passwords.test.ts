import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpClient } from '../support/http-client.ts';
import { availableBackends, startTestService } from '../support/service.ts';
import {
  tutorialLongPassword,
  tutorialLongPasswordBcrypt,
  tutorialLongPasswordSharingFirst72Bytes,
} from '../support/tutorial-password-hashes.ts';

for (const backend of availableBackends()) {
  test(`a tutorial user with an 80-byte password logs in with all of it, and from then on only all of it works (${backend})`, async (t) => {
    const service = await startTestService(backend);
    t.after(() => service.close());
    const client = new HttpClient(service.baseUrl);
    const email = `long-legacy-${Date.now().toString(36)}@example.com`;
    await service.query(
      'insert into users (email, email_key, password_hash, is_verified) values ($1, $2, $3, true)',
      [email, email.toLowerCase(), tutorialLongPasswordBcrypt],
    );
    const storedHash = async (): Promise<string> => {
      const [row] = await service.query<{ password_hash: string }>(
        'select password_hash from users where email = $1',
        [email],
      );
      return row?.password_hash ?? '';
    };

    const wrong = await client.post('/login', {
      json: { email, password: tutorialLongPassword.replace('the tutorial', 'The tutorial') },
    });
    assert.equal(wrong.status, 401);
    assert.equal(await storedHash(), tutorialLongPasswordBcrypt, 'a failed login leaves the legacy hash');

    const login = await client.post('/login', { json: { email, password: tutorialLongPassword } });
    assert.equal(login.status, 200, 'the password the user always typed, all 80 bytes of it');
    const me = await client.get('/me', { bearer: login.json.access_token, cookies: false });
    assert.equal(me.status, 200);
    assert.equal(me.json.email, email);
    assert.match(await storedHash(), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'upgraded to argon2id');

    assert.equal(
      (await client.post('/login', { json: { email, password: tutorialLongPassword } })).status,
      200,
      'the whole password still works against the new hash',
    );
    assert.equal(
      (await client.post('/login', { json: { email, password: tutorialLongPasswordSharingFirst72Bytes } }))
        .status,
      401,
      'a password that only shares the first 72 bytes no longer does',
    );
  });
}
