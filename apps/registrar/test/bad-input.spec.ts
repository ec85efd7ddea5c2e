// Hostile input against the real PostgreSQL: malformed JSON, oversized bodies, unknown
// fields, wrong types, SQL-ish strings → a coded 4xx with a clear message, never a 500.
// A fast-check property fuzzes every DTO-bearing endpoint.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import {
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
} from './helpers.js';

const BODY_LIMIT = 4096;
let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let registrar: Registrar;
let api: Api;
let deviceId: string;
let groupId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
    LOGIN_RATE_LIMIT: '10000',
    ENROLL_RATE_LIMIT: '100000',
  });
  api = await new Api(registrar.url).login();
  const code = await api.post('/api/claim-codes', {});
  deviceId = (await newAgent().enroll(api, code.body.code)).body.deviceId;
  groupId = (await api.post('/api/groups', { name: 'fuzz' })).body.id;
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

function expectClientError(r: { status: number; body: any; text: string }, code?: string) {
  expect(r.status, r.text).toBeGreaterThanOrEqual(400);
  expect(r.status, r.text).toBeLessThan(500);
  expect(r.body, r.text).toMatchObject({
    statusCode: r.status,
    code: code ?? expect.any(String),
    message: expect.any(String),
    correlationId: expect.any(String),
  });
  expect(r.text).not.toMatch(/at .+\.(ts|js):\d+/); // no stack traces
}

describe('malformed requests', () => {
  it('malformed JSON → 400 MALFORMED_BODY', async () => {
    for (const raw of ['{bad', '{"email": "a@b.c",}', '{"a":1}}', '\u0000', 'nul', '[1,2']) {
      const r = await api.request('POST', '/api/claim-codes', { raw });
      expectClientError(r, 'MALFORMED_BODY');
      expect(r.body.message).toBe('request body is not valid JSON');
    }
  });

  it('oversized body → 413 PAYLOAD_TOO_LARGE', async () => {
    const r = await api.request('POST', '/api/claim-codes', {
      raw: JSON.stringify({ label: 'x'.repeat(BODY_LIMIT * 2) }),
    });
    expectClientError(r, 'PAYLOAD_TOO_LARGE');
    expect(r.body.message).toContain(String(BODY_LIMIT));
  });

  it('non-JSON content type → 415', async () => {
    const r = await api.request('POST', '/api/claim-codes', {
      raw: 'label=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectClientError(r, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('unknown fields → 400 naming the field', async () => {
    const r = await api.post('/api/claim-codes', { label: 'x', isAdmin: true });
    expectClientError(r, 'VALIDATION_FAILED');
    expect(r.body.details).toContain('property isAdmin should not exist');
    const proto = await api.request('POST', '/api/claim-codes', {
      raw: '{"label":"x","__proto__":{"role":"owner"},"constructor":{"prototype":{"x":1}}}',
    });
    expectClientError(proto);
    const nested = await newAgent().enrollBody(api, 'AAAAA-BBBBB-CCCCC-DDDDD');
    const extraKeyField = await api.request('POST', '/api/enroll', {
      body: { ...nested, publicKey: { ...nested.publicKey, d: 'secret' } },
      token: null,
    });
    expectClientError(extraKeyField, 'VALIDATION_FAILED');
    expect(extraKeyField.body.details.join(' ')).toContain('publicKey.property d should not exist');
  });

  it('wrong types → 400 with per-field messages', async () => {
    const r = await api.post('/api/claim-codes', { label: 42, tags: 'a', ttlHours: '24' });
    expectClientError(r, 'VALIDATION_FAILED');
    expect(r.body.details).toEqual(
      expect.arrayContaining([
        'label must be a string',
        'tags must be an array',
        'ttlHours must be an integer number',
      ]),
    );
    for (const body of [[], [1, 2], 'text', 42, null, true]) {
      expectClientError(await api.request('POST', '/api/grants', { raw: JSON.stringify(body) }));
    }
    expectClientError(await api.request('POST', '/api/grants'), 'VALIDATION_FAILED');
  });

  it('bad path and query parameters → 400', async () => {
    expectClientError(await api.get('/api/devices/not-a-uuid'), 'VALIDATION_FAILED');
    expectClientError(await api.get('/api/devices?limit=-1'));
    expectClientError(await api.get('/api/devices?limit=abc'));
    expectClientError(await api.get('/api/devices?status=exploded'));
    expectClientError(await api.get('/api/devices?unknown=1'));
    expectClientError(await api.get('/api/audit?since=yesterday'));
  });

  it('SQL-ish strings are data, never SQL', async () => {
    const sqlish = `'; DROP TABLE devices; -- " OR 1=1 /* \\ $$`;
    const login = await api.request('POST', '/api/auth/login', {
      body: { email: `admin@example.com' OR '1'='1`, password: sqlish },
      token: null,
    });
    expectClientError(login, 'VALIDATION_FAILED');
    const login2 = await api.request('POST', '/api/auth/login', {
      body: { email: 'admin@example.com', password: `' OR '1'='1` },
      token: null,
    });
    expectClientError(login2, 'INVALID_CREDENTIALS');
    const search = await api.get(`/api/devices?search=${encodeURIComponent(sqlish)}`);
    expect(search.status).toBe(200);
    expect(search.body.total).toBe(0);
    const renamed = await api.patch(`/api/devices/${deviceId}`, { name: sqlish });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe(sqlish);
    const label = await api.post('/api/claim-codes', { label: sqlish });
    expect(label.status).toBe(201);
    expect(label.body.label).toBe(sqlish);
    expectClientError(await api.put(`/api/devices/${deviceId}/tags`, { tags: [sqlish] }));
    const tables = await db.sql(`SELECT to_regclass('devices') AS t`);
    expect(tables[0]?.['t']).toBe('devices');
    expect((await api.get('/api/devices')).body.total).toBe(1);
  });

  it('control characters in names are refused', async () => {
    expectClientError(await api.patch(`/api/devices/${deviceId}`, { name: 'bad\u0000name' }));
    expectClientError(await api.patch(`/api/devices/${deviceId}`, { name: 'a\u202Eb' }));
  });
});

describe('property: no DTO ever yields a 5xx', () => {
  // Arbitrary JSON values, and objects that look like the real DTOs but with hostile fields.
  const hostileString = fc.oneof(
    fc.string(),
    fc.constantFrom(
      `' OR 1=1 --`,
      '"; DROP TABLE users; --',
      '\u0000',
      '𝕏'.repeat(50),
      '../../etc/passwd',
      '${jndi:ldap://x}',
      '<script>alert(1)</script>',
      'a'.repeat(300),
    ),
  );
  const value = fc.oneof(
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(hostileString, { maxLength: 5 }),
    fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  );
  const dtoLike = (keys: string[]) =>
    fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 })), value, {
      maxKeys: keys.length + 1,
    });
  const endpoints: Array<{ method: string; path: () => string; keys: string[]; token?: null }> = [
    {
      method: 'POST',
      path: () => '/api/auth/login',
      keys: ['email', 'password', 'orgId'],
      token: null,
    },
    {
      method: 'POST',
      path: () => '/api/enroll',
      keys: ['code', 'nonce', 'publicKey', 'proof', 'agentVersion', 'name'],
      token: null,
    },
    { method: 'POST', path: () => '/api/claim-codes', keys: ['label', 'tags', 'ttlHours'] },
    {
      method: 'POST',
      path: () => '/api/grants',
      keys: ['userId', 'groupId', 'deviceId', 'deviceTag', 'role'],
    },
    { method: 'POST', path: () => '/api/users', keys: ['email', 'name', 'password', 'role'] },
    { method: 'POST', path: () => '/api/invites', keys: ['email', 'role', 'ttlHours'] },
    {
      method: 'POST',
      path: () => '/api/invites/accept',
      keys: ['token', 'name', 'password'],
      token: null,
    },
    { method: 'POST', path: () => '/api/invites/preview', keys: ['token'], token: null },
    { method: 'PATCH', path: () => `/api/devices/${deviceId}`, keys: ['name'] },
    { method: 'PUT', path: () => `/api/devices/${deviceId}/tags`, keys: ['tags'] },
    { method: 'POST', path: () => `/api/devices/${deviceId}/revoke-dry`, keys: ['reason'] },
    { method: 'POST', path: () => '/api/groups', keys: ['name'] },
    { method: 'PATCH', path: () => `/api/groups/${groupId}`, keys: ['name'] },
  ];

  it('fuzzes JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...endpoints).chain((e) => dtoLike(e.keys)) },
          { weight: 1, arbitrary: fc.jsonValue() },
        ),
        async (endpoint, body) => {
          const r = await api.request(endpoint.method, endpoint.path(), {
            raw: JSON.stringify(body) ?? 'null',
            ...(endpoint.token === null ? { token: null } : {}),
          });
          expect(r.status, `${endpoint.method} ${endpoint.path()} ${r.text}`).toBeLessThan(500);
          if (r.status >= 400) expectClientError(r);
        },
      ),
      { numRuns: 250 },
    );
  }, 180_000);

  it('fuzzes raw bodies and query strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 50 }),
        async (raw, q) => {
          const r1 = await api.request('POST', '/api/claim-codes', { raw });
          expect(r1.status, r1.text).toBeLessThan(500);
          const qs = encodeURIComponent(q);
          for (const path of [
            `/api/devices?search=${qs}`,
            `/api/devices?tag=${qs}&limit=${qs}`,
            `/api/audit?action=${qs}&cursor=${qs}&since=${qs}`,
            `/api/grants?userId=${qs}`,
          ]) {
            const r = await api.get(path);
            expect(r.status, `${path} ${r.text}`).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 80 },
    );
  }, 180_000);
});

describe('rate limiting', () => {
  it('login is limited per client; a second replica on the same database works', async () => {
    const limited = await startRegistrar({
      DATABASE_URL: db.url,
      DATA_DIR: dir.path,
      LOGIN_RATE_LIMIT: '3',
    });
    try {
      expect(limited.bootstrap).toBeNull();
      const other = new Api(limited.url);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await other.request('POST', '/api/auth/login', {
          body: { email: 'admin@example.com', password: 'wrong password' },
          token: null,
        });
        statuses.push(r.status);
        if (r.status === 429) expectClientError(r, 'RATE_LIMITED');
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      // Sessions are in the shared database: replica 1's token works on replica 2.
      expect((await other.get('/api/auth/me', api.token)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
