import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fastify, { type FastifyInstance } from 'fastify';
import { createVerifier } from '../src/index.ts';
import { latchkeyAuth } from '../src/fastify.ts';
import { testGuardedAnswers } from './support/answers.ts';
import { FakeIssuer } from './support/issuer.ts';

describe('the fastify plugin', () => {
  let issuer: FakeIssuer;
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    issuer = await FakeIssuer.start();
    const verifier = createVerifier({ issuer: issuer.url, jwksCooldownSeconds: 0.1 });
    app = fastify();
    app.get('/health', async () => ({ status: 'ok' }));
    await app.register(async (guarded) => {
      await guarded.register(latchkeyAuth, { verifier });
      guarded.get('/whoami', async (request) => request.auth);
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app.close();
    await issuer.close();
  });

  test('registered on the root instance, it guards the routes registered after it', async () => {
    const root = fastify();
    await root.register(latchkeyAuth, { verifier: createVerifier({ issuer: issuer.url }) });
    root.get('/whoami', async (request) => ({ email: request.auth?.email }));
    try {
      assert.equal((await root.inject({ url: '/whoami' })).statusCode, 401);
      const token = await issuer.mint();
      const answer = await root.inject({ url: '/whoami', headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(answer.json(), { email: 'ada@example.com' });
    } finally {
      await root.close();
    }
  });

  testGuardedAnswers(() => ({ service: { url }, issuer }));
});
