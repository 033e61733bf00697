import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { allErrorCodes, errorCodes, type ErrorCodeEntry } from '../../src/flows/errors.ts';
import { registerErrorHandling } from '../../src/http/plugins/errors.ts';
import { closeConnectionsOnShutdown } from '../../src/http/plugins/graceful-close.ts';
import { HttpClient } from '../support/http-client.ts';
import { startTestService, type TestService } from '../support/service.ts';

interface OpenApiOperation {
  readonly operationId: string;
  readonly security?: unknown[];
  readonly responses: Record<string, unknown>;
}

describe('HTTP contract: error shape, limits, headers, docs', () => {
  let service: TestService;
  let client: HttpClient;
  before(async () => {
    service = await startTestService('embedded');
    client = new HttpClient(service.baseUrl);
  });
  after(async () => {
    await service?.close();
  });

  async function rawPost(path: string, body: string, contentType: string): Promise<Response> {
    return fetch(`${service.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
  }

  test('GET / names the service and its version', async () => {
    const answer = await client.get('/');
    assert.equal(answer.status, 200);
    assert.equal(typeof answer.json.message, 'string');
    assert.match(answer.json.version, /^\d+\.\d+\.\d+/);
  });

  test('malformed JSON is a 400 with detail and code, and creates nothing', async () => {
    const response = await rawPost('/register', '{"email": "a@b.co", "password": ', 'application/json');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { detail: string; code: string };
    assert.equal(body.code, 'invalid_request');
    assert.equal(typeof body.detail, 'string');
    const [row] = await service.query<{ count: string }>('select count(*) from users');
    assert.equal(row?.count, '0');
  });

  test('a missing or mistyped field is a 422 naming the field', async () => {
    const missing = await client.post('/register', { json: { email: 'someone@example.com' } });
    assert.equal(missing.status, 422);
    assert.equal(missing.json.code, 'invalid_request');
    assert.match(missing.json.detail, /password/);
    const mistyped = await client.post('/login', { json: { email: ['x'], password: 5 } });
    assert.equal(mistyped.status, 422);
  });

  test('an invalid email address is refused with 422, header injection included', async () => {
    for (const email of [
      'not-an-email',
      'a@b',
      'victim@example.com\r\nBcc: x@evil.test',
      'a b@example.com',
    ]) {
      const answer = await client.post('/register', { json: { email, password: 'long enough password' } });
      assert.equal(answer.status, 422, email);
      assert.equal(answer.json.code, 'invalid_request');
    }
  });

  test('passwords shorter than 15 or longer than 128 characters are refused with a named rule', async () => {
    for (const password of ['abc', 'fourteen chars']) {
      const short = await client.post('/register', { json: { email: 'short@example.com', password } });
      assert.equal(short.status, 422);
      assert.equal(short.json.code, 'password_too_short');
      assert.equal(short.json.detail, 'Password must be at least 15 characters');
    }
    const long = await client.post('/register', {
      json: { email: 'long@example.com', password: 'x'.repeat(129) },
    });
    assert.equal(long.status, 422);
    assert.equal(long.json.code, 'password_too_long');
    const [row] = await service.query<{ count: string }>('select count(*) from users');
    assert.equal(row?.count, '0');
  });

  test('a wrong content type is a 415 and an oversized body a 413', async () => {
    const text = await rawPost('/login', 'email=a', 'text/plain');
    assert.equal(text.status, 415);
    assert.equal(((await text.json()) as { code: string }).code, 'unsupported_media_type');
    const huge = await rawPost(
      '/login',
      JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1_000_000) }),
      'application/json',
    );
    assert.equal(huge.status, 413);
  });

  test('login and register take JSON only, so a cross-site HTML form cannot log a browser in', async () => {
    for (const path of ['/login', '/register']) {
      const form = await rawPost(
        path,
        'email=a%40example.com&password=long+enough+password',
        'application/x-www-form-urlencoded',
      );
      assert.equal(form.status, 415, path);
    }
  });

  test('unknown paths are a 404 in the same shape', async () => {
    const answer = await client.get('/nothing-here');
    assert.equal(answer.status, 404);
    assert.deepEqual(answer.json, { detail: 'Not Found', code: 'not_found' });
  });

  test('a bad or missing token is refused without a 5xx', async () => {
    for (const token of ['', 'x', 'A'.repeat(43), '../../etc/passwd', 'A'.repeat(500)]) {
      const verify = await client.post('/verify-email', { json: { token } });
      assert.ok([400, 422].includes(verify.status), `verify ${token}: ${verify.status}`);
      const reset = await client.post('/reset-password', {
        json: { token, new_password: 'a long new password' },
      });
      assert.ok([400, 422].includes(reset.status), `reset ${token}: ${reset.status}`);
    }
    const page = await client.get('/verify-email?token=nonsense');
    assert.equal(page.status, 400);
    assert.match(page.text, /invalid, expired or already used/);
    const me = await client.get('/me', { bearer: 'not-a-session' });
    assert.equal(me.status, 401);
  });

  test('every response carries the security headers, errors included; auth answers are never cached', async () => {
    for (const path of ['/', '/nothing-here', '/verify-email?token=x']) {
      const answer = await client.get(path);
      assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(answer.headers.get('x-frame-options'), 'DENY', path);
      assert.match(answer.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      assert.equal(answer.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(answer.headers.get('cache-control'), 'no-store', path);
    }
    const login = await client.post('/login', {
      json: { email: 'x@example.com', password: 'whatever password' },
    });
    assert.equal(login.headers.get('cache-control'), 'no-store');
  });

  test('/docs serves Swagger UI from local assets and /openapi.json describes every route', async () => {
    const docs = await fetch(`${service.baseUrl}/docs/`);
    assert.equal(docs.status, 200);
    const html = await docs.text();
    assert.doesNotMatch(html, /https?:\/\/(?!localhost)/, 'no CDN');
    const spec = await client.get('/openapi.json');
    assert.equal(spec.status, 200);
    for (const path of [
      '/register',
      '/verify-email',
      '/resend-verification',
      '/login',
      '/me',
      '/logout',
      '/request-password-reset',
      '/reset-password',
    ]) {
      assert.ok(spec.json.paths[path], `${path} is documented`);
    }
  });

  test('every error code is in docs/api.md with its status and default detail, and in /openapi.json', async () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8').split('\n');
    const header = doc.findIndex((line) =>
      /^\| status +\| `code` +\| default `detail` +\| when +\|$/.test(line),
    );
    assert.ok(header >= 0, 'docs/api.md has the error table');
    const rows: string[][] = [];
    for (const line of doc.slice(header + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(
        line
          .slice(1, -1)
          .split(' | ')
          .map((cell) => cell.trim()),
      );
    }
    assert.deepEqual(
      rows,
      allErrorCodes.map((code) => {
        const entry: ErrorCodeEntry = errorCodes[code];
        return [
          [entry.status, ...(entry.otherStatuses ?? [])].join(', '),
          `\`${code}\``,
          entry.message,
          entry.when,
        ];
      }),
    );
    const spec = await client.get('/openapi.json');
    assert.deepEqual(spec.json.components.schemas.ErrorBody.properties.code.enum, allErrorCodes);
  });

  test('every operation in /openapi.json has an operationId, its security and a 4xx answer', async () => {
    const spec = await client.get('/openapi.json');
    const operations = Object.values(
      spec.json.paths as Record<string, Record<string, OpenApiOperation>>,
    ).flatMap((methods) => Object.values(methods));
    assert.ok(operations.length >= 13);
    const operationIds = operations.map((operation) => operation.operationId);
    assert.equal(new Set(operationIds).size, operations.length, 'one distinct operationId each');
    for (const operation of operations) {
      assert.ok(Array.isArray(operation.security), `${operation.operationId} states its security`);
      assert.ok(
        Object.keys(operation.responses).some((status) => status.startsWith('4')),
        `${operation.operationId} has a 4xx answer`,
      );
    }
    assert.deepEqual(spec.json.servers, [
      { url: service.baseUrl, description: 'This deployment (APP_BASE_URL)' },
    ]);
  });

  test('health: live always, ready when the database answers', async () => {
    assert.equal((await client.get('/health/live')).status, 200);
    const ready = await client.get('/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.json.checks.database, 'ok');
  });
});

describe('a request that arrives while the service closes', () => {
  test('is answered 503 service_unavailable in the error shape, with Retry-After, and the connection closes', async () => {
    // As buildApp configures it: fastify's own 503 (another body) off, the plugin answering instead.
    const app = Fastify({ return503OnClosing: false });
    registerErrorHandling(app);
    closeConnectionsOnShutdown(app);
    app.get('/', async () => ({ message: 'served' }));
    let answer:
      { status: number; retryAfter: string | null; connection: string | null; body: unknown } | undefined;
    // Runs once close() has begun, while the socket still accepts: a request in the closing window.
    app.addHook('preClose', async () => {
      const response = await fetch(`${baseUrl}/`);
      answer = {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        connection: response.headers.get('connection'),
        body: await response.json(),
      };
    });
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    assert.equal((await fetch(`${baseUrl}/`)).status, 200);
    await app.close();
    assert.deepEqual(answer, {
      status: 503,
      retryAfter: '5',
      connection: 'close',
      body: { detail: 'Service temporarily unavailable', code: 'service_unavailable' },
    });
  });
});
