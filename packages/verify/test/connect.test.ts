import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe } from 'node:test';
import { createVerifier } from '../src/index.ts';
import { createLatchkeyMiddleware, type AuthenticatedRequest } from '../src/connect.ts';
import { testGuardedAnswers } from './support/answers.ts';
import { FakeIssuer } from './support/issuer.ts';

describe('the Connect/Express middleware, on a plain node:http server', () => {
  let issuer: FakeIssuer;
  let server: Server;
  let url: string;

  before(async () => {
    issuer = await FakeIssuer.start();
    const requireToken = createLatchkeyMiddleware({
      verifier: createVerifier({ issuer: issuer.url, jwksCooldownSeconds: 0.1 }),
    });
    server = createServer((request, response) => {
      const sendJson = (body: unknown): void => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (request.url === '/health') {
        sendJson({ status: 'ok' });
        return;
      }
      // The middleware chain as Connect and Express run it: next() hands over to the route.
      requireToken(request, response, (error) => {
        if (error !== undefined) {
          response.writeHead(500).end();
          return;
        }
        sendJson((request as AuthenticatedRequest).auth);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await issuer.close();
  });

  testGuardedAnswers(() => ({ service: { url }, issuer }));
});
