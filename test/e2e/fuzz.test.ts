import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/security/passwords.ts';
import {
  createRandom,
  fingerprintState,
  hostileStrings,
  randomJson,
  randomString,
  type Random,
} from '../support/fuzz.ts';
import { availableBackends, startTestService, type TestService } from '../support/service.ts';

/** FUZZ_SEED=… replays a run; the seed is in every failure message. */
const seed = Number(process.env.FUZZ_SEED ?? 20_261_128);
const casesPerEndpoint = 200;
const concurrency = 8;
const answerTimeoutMilliseconds = 5_000;

const seededEmail = 'fuzz.owner@example.com';
const seededPassword = 'tangerine harbour gravel';
const unknownEmail = 'nobody.known@example.com';

interface FuzzCase {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly note: string;
}

interface Endpoint {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly fields: readonly string[];
  /** Takes form posts too (and answers them with HTML pages). */
  readonly form: boolean;
  /** A 2xx here would change state: every fuzzed request must be refused. */
  readonly mutating: boolean;
  /** Answers with an HTML page, even when it refuses. */
  readonly page?: boolean;
}

const endpoints: readonly Endpoint[] = [
  { method: 'POST', path: '/register', fields: ['email', 'password'], form: false, mutating: true },
  { method: 'POST', path: '/resend-verification', fields: ['email'], form: false, mutating: false },
  { method: 'POST', path: '/verify-email', fields: ['token'], form: true, mutating: true },
  { method: 'POST', path: '/login', fields: ['email', 'password'], form: false, mutating: true },
  { method: 'POST', path: '/logout', fields: [], form: false, mutating: true },
  { method: 'POST', path: '/request-password-reset', fields: ['email'], form: true, mutating: false },
  { method: 'POST', path: '/reset-password', fields: ['token', 'new_password'], form: true, mutating: true },
  { method: 'GET', path: '/verify-email', fields: ['token'], form: false, mutating: false, page: true },
  { method: 'GET', path: '/reset-password', fields: ['token'], form: false, mutating: false, page: true },
  { method: 'POST', path: '/sign-in', fields: ['email', 'password'], form: true, mutating: true },
  { method: 'POST', path: '/sign-up', fields: ['email', 'password'], form: true, mutating: true },
  { method: 'POST', path: '/forgot-password', fields: ['email'], form: true, mutating: false },
  { method: 'GET', path: '/sign-in', fields: ['return_to'], form: false, mutating: false, page: true },
  { method: 'GET', path: '/account', fields: [], form: false, mutating: false, page: true },
  { method: 'GET', path: '/me', fields: [], form: false, mutating: false },
  {
    method: 'POST',
    path: '/me/password',
    fields: ['current_password', 'new_password'],
    form: true,
    mutating: true,
  },
  { method: 'GET', path: '/me/sessions', fields: [], form: false, mutating: false },
  { method: 'GET', path: '/', fields: [], form: false, mutating: false },
  { method: 'GET', path: '/health/ready', fields: [], form: false, mutating: false },
  { method: 'GET', path: '/openapi.json', fields: [], form: false, mutating: false },
  { method: 'GET', path: '/nowhere', fields: [], form: false, mutating: false },
];

const hostileContentTypes = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/x-www-form-urlencoded; charset=koi8-r',
  'APPLICATION/JSON',
  'application/json, text/plain',
  '',
  '\u00e9/\u00e9',
];

/** A well-formed but wrong value for a field: typed wrong, hostile, or absurdly long. */
function hostileValue(random: Random, field: string): unknown {
  const roll = random.integer(0, 9);
  if (roll === 0) return randomJson(random, 2);
  if (roll === 1) return random.pick([null, true, 0, -1, 1e308, [], {}, ['a@example.com'], { $ne: null }]);
  if (roll === 2 && field.includes('password')) return 'p'.repeat(random.pick([1_000_000, 20_000, 4_097]));
  if (roll <= 5) return random.pick(hostileStrings);
  return randomString(random);
}

/** A value the route can never accept for that field, whatever the random draw. */
function unacceptableValue(random: Random, field: string): unknown {
  const value = hostileValue(random, field);
  if (typeof value !== 'string') return value;
  // A control character is never part of a valid address.
  if (field === 'email') return `${value}\u0000`;
  if (field === 'password' || field === 'new_password') {
    const codePoints = [...value.normalize('NFKC')];
    if (codePoints.length >= 15 && codePoints.length <= 128) {
      return random.pick([codePoints.slice(0, 14).join(''), value.repeat(10), '1qaz2wsx3edc4rfv']);
    }
  }
  return value;
}

/**
 * An object for the endpoint's fields in which at least one field is unacceptable, so that a mutating route
 * can never accept it: a random object could otherwise be a valid registration now and then. The other
 * fields look real: the seeded account's address for /login (so wrong passwords cost a real hash check), an
 * address without an account elsewhere (so nothing is sent).
 */
function hostileFields(random: Random, endpoint: Endpoint): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const broken = endpoint.fields.length === 0 ? undefined : random.pick(endpoint.fields);
  for (const field of endpoint.fields) {
    if (field === broken) body[field] = unacceptableValue(random, field);
    else if (endpoint.mutating && random.chance(0.5)) body[field] = hostileValue(random, field);
    else if (field === 'email') body[field] = endpoint.path === '/login' ? seededEmail : unknownEmail;
    else if (field === 'token') body[field] = 'A'.repeat(43);
    else body[field] = random.pick([seededPassword, 'a perfectly fine password']);
  }
  if (random.chance(0.1)) body[random.pick(['is_verified', 'is_admin', 'role'])] = true;
  return body;
}

function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Hand-made JSON texts: duplicated keys, prototype keys, nesting, numbers JSON.stringify never writes. */
function rawJsonCases(endpoint: Endpoint): string[] {
  // Routes that may answer 2xx get an address without an account, so a parsable case sends nothing.
  const address = endpoint.mutating ? seededEmail : unknownEmail;
  const nested = (depth: number, open: string, close: string): string =>
    open.repeat(depth) + close.repeat(depth);
  return [
    '',
    ' ',
    'null',
    '"string"',
    '[]',
    '{',
    '{"email": "a@example.com", "password": ',
    '{"email": "a@example.com"}}',
    `{"email": "not-an-address", "email": "${address}", "password": "short", "password": "x"}`,
    `{"token": "bad", "token": "${'B'.repeat(43)}", "new_password": "", "new_password": "tiny"}`,
    `{"__proto__": {"is_verified": true}, "email": "${address}", "password": "x"}`,
    `{"constructor": {"prototype": {"is_admin": true}}, "email": "${address}", "password": "x"}`,
    `{"email": {"__proto__": {"toString": 1}}, "password": "x"}`,
    nested(5_000, '[', ']'),
    nested(1_500, '{"a":', '}'),
    `{"email": "${address}", "password": 1e999}`,
    `{"email": "${address}", "password": "\\ud800\\udc00\\ud800"}`,
    `{"email": "\\u0000${address}", "password": "\\u0000"}`,
    `{"email": "a@b.co", "password": "${'\\u0000'.repeat(20)}", "token": null}`,
    '{"email": "a@b.co" /* comment */, "password": "xx"}',
    "{'email': 'a@b.co'}",
    `{"${endpoint.fields[0] ?? 'x'}": NaN}`,
    '\ufeff{"email": "a@b.co", "password": "x"}',
  ];
}

function formCases(random: Random): string[] {
  return [
    'token=%ZZ&new_password=%',
    'token=a&token=b&new_password=x',
    'token[]=a&new_password[]=b',
    '__proto__[token]=x&constructor[prototype][x]=1',
    'email[$ne]=&email=',
    `email=${encodeURIComponent('victim@example.com\r\nBcc: x@evil.test')}`,
    `token=${'A'.repeat(43)}&new_password=${encodeURIComponent('\u0000'.repeat(5))}`,
    '&&&===&',
    '%00=%00',
    randomString(random, 200),
  ];
}

const invalidUtf8Bodies = [
  Uint8Array.from([0x7b, 0x22, 0x65, 0x6d, 0x61, 0x69, 0x6c, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  Uint8Array.from([
    0x7b, 0x22, 0x74, 0x6f, 0x6b, 0x65, 0x6e, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x22, 0x7d,
  ]),
  Uint8Array.from([
    0x7b, 0x22, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d,
  ]),
  Uint8Array.from([0xef, 0xbb, 0xbf, 0x00, 0x00, 0xfe, 0xff]),
];

function casesFor(endpoint: Endpoint, random: Random, sessionToken: string): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const { method, path } = endpoint;
  const add = (
    note: string,
    options: Omit<FuzzCase, 'method' | 'path' | 'note'> & { path?: string },
  ): void => {
    cases.push({ method, path, note, ...options });
  };
  if (method === 'GET') {
    const queries = [
      'token=',
      'token=%ZZ',
      'token=a&token=b',
      'token[]=x',
      '__proto__[token]=x',
      'constructor[prototype][token]=x',
      `token=${'A'.repeat(43)}`,
      `token=${'A'.repeat(600)}`,
      'token=%00%0d%0a',
      'token=<script>alert(1)</script>',
      `token="><img src=x onerror=alert(1)>`,
      '=&=&=',
      '?&?&',
      `token=${'%F0%9F%98%80'.repeat(50)}`,
      `x=${'y'.repeat(9_000)}`,
    ];
    for (const query of queries) add(`query ${query.slice(0, 40)}`, { path: `${path}?${query}` });
    while (cases.length < casesPerEndpoint) {
      const query = new URLSearchParams();
      for (let index = random.integer(1, 3); index > 0; index -= 1) {
        query.append(
          random.pick(['token', '__proto__', 'constructor', 'email', randomString(random, 8)]),
          randomString(random, 60),
        );
      }
      const headers: Record<string, string> = {};
      if (random.chance(0.3))
        headers.authorization = random.pick([
          `Bearer ${randomString(random, 50).replace(/[^\x21-\x7e]/g, 'x')}`,
          'Bearer',
          'Basic Zm9vOmJhcg==',
          `Bearer ${sessionToken}x`,
          `bearer  ${'A'.repeat(43)}`,
        ]);
      if (random.chance(0.3))
        headers.cookie = random.pick([
          `session_id=${'B'.repeat(43)}`,
          'session_id=',
          'session_id=a; session_id=b',
          `session_id=${'%00'.repeat(10)}`,
          `x=${'y'.repeat(4_000)}`,
          '__proto__=1',
        ]);
      add('random query', { path: `${path}?${query.toString()}`, headers });
    }
    return cases;
  }

  for (const body of rawJsonCases(endpoint))
    add(`raw json ${body.slice(0, 40)}`, { headers: { 'content-type': 'application/json' }, body });
  for (const body of invalidUtf8Bodies)
    add('invalid utf-8', { headers: { 'content-type': 'application/json' }, body });
  for (const contentType of hostileContentTypes) {
    add(`content-type ${contentType}`, {
      headers: contentType === '' ? {} : { 'content-type': contentType },
      body: jsonText(hostileFields(random, endpoint)),
    });
  }
  add('1 MB body', {
    headers: { 'content-type': 'application/json' },
    body: jsonText({ email: seededEmail, password: 'p'.repeat(1_000_000) }),
  });
  add('16 KiB + 1 body', {
    headers: { 'content-type': 'application/json' },
    body: `{"email":"${'e'.repeat(16 * 1024)}"}`,
  });
  if (endpoint.form) {
    for (const body of formCases(random))
      add(`form ${body.slice(0, 40)}`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
  } else {
    add('form on a JSON-only route', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${encodeURIComponent(seededEmail)}&password=${encodeURIComponent(seededPassword)}`,
    });
  }
  if (path === '/logout' || path === '/me/password') {
    for (const authorization of [
      'Bearer',
      'Bearer ' + 'A'.repeat(43),
      'Basic x',
      `Bearer ${sessionToken.slice(0, -1)}`,
      `Bearer ${sessionToken}${sessionToken}`,
    ]) {
      add(`authorization ${authorization.slice(0, 20)}`, { headers: { authorization } });
    }
    // The real session in a cookie, from a foreign page: refused as cross-site, and the session lives on.
    add('cross-site cookie', {
      headers: { cookie: `session_id=${sessionToken}`, origin: 'https://evil.example' },
    });
  }
  while (cases.length < casesPerEndpoint) {
    const asForm = endpoint.form && random.chance(0.25);
    const fields = random.chance(0.15)
      ? (randomJson(random, 3) as Record<string, unknown>)
      : hostileFields(random, endpoint);
    if (asForm) {
      const form = new URLSearchParams();
      for (const [key, value] of Object.entries(fields ?? {}))
        form.append(key, typeof value === 'string' ? value : jsonText(value));
      add('random form', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } else {
      add('random json', { headers: { 'content-type': 'application/json' }, body: jsonText(fields) });
    }
  }
  return cases;
}

interface Outcome {
  readonly fuzzCase: FuzzCase;
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

async function send(baseUrl: string, fuzzCase: FuzzCase): Promise<Outcome> {
  const response = await fetch(`${baseUrl}${fuzzCase.path}`, {
    method: fuzzCase.method,
    headers: fuzzCase.headers,
    body: fuzzCase.body,
    signal: AbortSignal.timeout(answerTimeoutMilliseconds),
  });
  return {
    fuzzCase,
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

async function runAll(baseUrl: string, cases: readonly FuzzCase[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < cases.length) {
        const fuzzCase = cases[next];
        next += 1;
        if (fuzzCase !== undefined) outcomes.push(await send(baseUrl, fuzzCase));
      }
    }),
  );
  return outcomes;
}

function checkOutcome(endpoint: Endpoint, outcome: Outcome): void {
  const where = `seed ${seed}, ${outcome.fuzzCase.method} ${outcome.fuzzCase.path.slice(0, 80)} (${outcome.fuzzCase.note}): ${outcome.status} ${outcome.text.slice(0, 200)}`;
  assert.ok(outcome.status < 500, `no 5xx; ${where}`);
  if (endpoint.mutating) assert.ok(outcome.status >= 400, `refused; ${where}`);
  if (outcome.status < 400) return;
  if (/text\/html/.test(outcome.contentType)) {
    assert.ok(
      endpoint.page === true || endpoint.form,
      `an HTML refusal only from a page or a form route; ${where}`,
    );
    assert.match(outcome.text, /^<!doctype html>/, where);
    return;
  }
  assert.match(outcome.contentType, /^application\/json/, where);
  const body = JSON.parse(outcome.text) as { detail?: unknown; code?: unknown };
  assert.equal(typeof body.detail, 'string', where);
  assert.equal(typeof body.code, 'string', where);
}

/** Sends raw bytes and reports when the server answered or hung up, or that it did neither in time. */
function probeSocket(
  port: number,
  start: (write: (text: string) => void) => () => void,
  limitMilliseconds: number,
): Promise<{ closedAfter: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = connect(port, '127.0.0.1');
    let stop = (): void => {};
    socket.on('connect', () => {
      stop = start((text) => {
        if (!socket.destroyed) socket.write(text);
      });
    });
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      stop();
      clearTimeout(limit);
      resolve({ closedAfter: Date.now() - started, answer });
    });
    const limit = setTimeout(() => {
      stop();
      socket.destroy();
      reject(new Error(`the connection was still open after ${limitMilliseconds} ms`));
    }, limitMilliseconds);
  });
}

function trickle(
  write: (text: string) => void,
  first: string,
  piece: string,
  everyMilliseconds: number,
): () => void {
  write(first);
  const timer = setInterval(() => write(piece), everyMilliseconds);
  return () => clearInterval(timer);
}

for (const backend of availableBackends()) {
  describe(`fuzzing every endpoint: 4xx in the usual shape, never a 5xx or a hang, nothing changed (${backend})`, () => {
    let service: TestService;
    let sessionToken: string;
    before(async () => {
      service = await startTestService(backend);
      await service.query(
        'insert into users (email, email_key, password_hash, is_verified) values ($1, $2, $3, true)',
        [seededEmail, seededEmail, await hashPassword(seededPassword)],
      );
      const login = await fetch(`${service.baseUrl}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: seededEmail, password: seededPassword }),
      });
      assert.equal(login.status, 200);
      sessionToken = ((await login.json()) as { access_token: string }).access_token;
    });
    after(async () => {
      await service?.close();
    });

    for (const [index, endpoint] of endpoints.entries()) {
      test(`${endpoint.method} ${endpoint.path}`, async () => {
        const random = createRandom(seed + index);
        const cases = casesFor(endpoint, random, sessionToken);
        assert.ok(cases.length >= casesPerEndpoint);
        const before = await fingerprintState(service);
        const outcomes = await runAll(service.baseUrl, cases);
        for (const outcome of outcomes) checkOutcome(endpoint, outcome);
        assert.equal(await fingerprintState(service), before, `seed ${seed}: the database changed`);
      });
    }

    test('unknown methods and paths are a 404 in the usual shape', async () => {
      for (const [method, path] of [
        ['PUT', '/login'],
        ['DELETE', '/me'],
        ['PATCH', '/register'],
        ['OPTIONS', '/login'],
        ['GET', '/%00'],
        ['GET', '/..%2f..%2fetc%2fpasswd'],
        ['GET', `/${'a'.repeat(2_000)}`],
        ['POST', '/register/'],
      ] as const) {
        const outcome = await send(service.baseUrl, { method, path, note: 'routing' });
        checkOutcome({ method: 'GET', path, fields: [], form: false, mutating: true }, outcome);
      }
    });

    test('the service is healthy afterwards, and the seeded session still works', async () => {
      assert.equal((await fetch(`${service.baseUrl}/health/ready`)).status, 200);
      const me = await fetch(`${service.baseUrl}/me`, {
        headers: { authorization: `Bearer ${sessionToken}` },
      });
      assert.equal(me.status, 200);
      // The service runs in this process: a polluted prototype would show here.
      assert.deepEqual(Object.keys(Object.prototype), []);
      const probe: Record<string, unknown> = {};
      assert.equal(probe.is_verified, undefined);
      assert.equal(probe.is_admin, undefined);
    });

    if (backend === 'embedded') {
      test('slow clients are cut off: trickled bodies, trickled headers and idle connections end within the request timeout', async () => {
        const port = Number(new URL(service.baseUrl).port);
        // The service allows 10 s for a whole request and checks every second.
        const limit = 14_000;
        const results = await Promise.all([
          probeSocket(
            port,
            (write) =>
              trickle(
                write,
                'POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n{"email":"',
                'a',
                200,
              ),
            limit,
          ),
          probeSocket(
            port,
            (write) => trickle(write, 'POST /register HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: 1\r\n', 200),
            limit,
          ),
          probeSocket(port, () => () => {}, limit),
          probeSocket(
            port,
            (write) =>
              trickle(
                write,
                'GET /me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \u0000\r\n\r\n',
                '',
                60_000,
              ),
            limit,
          ),
        ]);
        for (const result of results.slice(0, 3)) {
          assert.match(result.answer, /^HTTP\/1\.1 408 /, result.answer);
          assert.match(result.answer, /"code":"request_timeout"/);
        }
        assert.match(results[3]?.answer ?? '', /^HTTP\/1\.1 400 /, 'a malformed header is a 400 at once');
        assert.ok((results[3]?.closedAfter ?? limit) < 2_000);
      });
    }
  });
}
