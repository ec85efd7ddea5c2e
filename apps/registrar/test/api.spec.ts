// REST API against the real PostgreSQL: sessions, roles, ACLs (grants, org isolation),
// device management, grants CRUD, audit trail and pagination, metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import {
  ADMIN_PASSWORD,
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
  signInToOtherOrg,
} from './helpers.js';

let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let registrar: Registrar;
let admin: Api;
let otherOrgAdmin: Api;
const MEMBER = { email: 'member@example.com', name: 'Member', password: 'member password 123' };

async function enrollDevice(api: Api, tags: string[] = [], label?: string): Promise<string> {
  const code = await api.post('/api/claim-codes', { tags, ...(label ? { label } : {}) });
  expect(code.status).toBe(201);
  const r = await newAgent().enroll(api, code.body.code);
  expect(r.status).toBe(201);
  return r.body.deviceId;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  // Many sign-ins here; the login rate limit has its own test (bad-input.spec.ts).
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    LOGIN_RATE_LIMIT: '1000',
  });
  admin = await new Api(registrar.url).login();
  // A second organization, seeded the way the bootstrap does it.
  otherOrgAdmin = await signInToOtherOrg(registrar);
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

describe('auth', () => {
  it('denies by default: no token, a bad token, a forged cookie', async () => {
    for (const path of ['/api/devices', '/api/auth/me', '/api/audit', '/api/grants']) {
      const r = await admin.get(path, null);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'UNAUTHENTICATED', correlationId: expect.any(String) });
    }
    expect((await admin.get('/api/auth/me', 'x'.repeat(43))).status).toBe(401);
    const cookie = await fetch(`${registrar.url}/api/auth/me`, {
      headers: { cookie: 'pf_session=forged-forged-forged-forged' },
    });
    expect(cookie.status).toBe(401);
  });

  it('logs in with a cookie session, reports me, logs out and the token dies', async () => {
    const res = await fetch(`${registrar.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ADMIN@example.com', password: ADMIN_PASSWORD }),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/pf_session=[A-Za-z0-9_-]+/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = /pf_session=[A-Za-z0-9_-]+/.exec(setCookie)![0];
    const me = await fetch(`${registrar.url}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: 'admin@example.com' }, role: 'owner' });
    const out = await fetch(`${registrar.url}/api/auth/logout`, {
      method: 'POST',
      headers: { cookie },
    });
    expect(out.status).toBe(204);
    expect((await fetch(`${registrar.url}/api/auth/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('refuses wrong passwords and unknown users alike, and audits both', async () => {
    const wrong = await admin.request('POST', '/api/auth/login', {
      body: { email: 'admin@example.com', password: 'nope' },
      token: null,
    });
    const unknown = await admin.request('POST', '/api/auth/login', {
      body: { email: 'ghost@example.com', password: 'nope' },
      token: null,
    });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({
        code: 'INVALID_CREDENTIALS',
        message: 'invalid e-mail or password',
      });
    }
    const audit = await admin.get('/api/audit?action=auth.login_failed');
    expect(audit.body.items.some((e: any) => e.details.reason === 'bad_password')).toBe(true);
    // Neither the password nor anything like it is in the audit log.
    expect(JSON.stringify(audit.body)).not.toContain('nope');
    const rows = await db.sql(
      `SELECT details FROM audit_events WHERE action = 'auth.login_failed'`,
    );
    expect(rows.some((r: any) => r.details.reason === 'unknown_user')).toBe(true);
  });
});

describe('password change', () => {
  it('needs the current password, ends other sessions, keeps this one', async () => {
    await admin.post('/api/users', {
      email: 'pw@example.com',
      name: 'PW',
      password: 'first password 1',
      role: 'member',
    });
    const a = await new Api(registrar.url).login('pw@example.com', 'first password 1');
    const b = await new Api(registrar.url).login('pw@example.com', 'first password 1');
    const wrong = await a.post('/api/auth/password', {
      currentPassword: 'nope',
      newPassword: 'second password 2',
    });
    expect(wrong.status).toBe(401);
    const short = await a.post('/api/auth/password', {
      currentPassword: 'first password 1',
      newPassword: 'short',
    });
    expect(short.status).toBe(400);
    const ok = await a.post('/api/auth/password', {
      currentPassword: 'first password 1',
      newPassword: 'second password 2',
    });
    expect(ok.status).toBe(204);
    expect((await a.get('/api/auth/me')).status).toBe(200);
    expect((await b.get('/api/auth/me')).status).toBe(401);
    await expect(
      new Api(registrar.url).login('pw@example.com', 'first password 1'),
    ).rejects.toThrow();
    await new Api(registrar.url).login('pw@example.com', 'second password 2');
    const log = await admin.get('/api/audit?action=auth.password_change');
    expect(log.body.items).toHaveLength(1);
  });
});

describe('org isolation and roles', () => {
  it('never shows another organization’s devices, codes, grants or audit', async () => {
    const mine = await enrollDevice(admin, ['iso']);
    const theirs = await enrollDevice(otherOrgAdmin, ['iso']);
    const myList = await admin.get('/api/devices?tag=iso');
    expect(myList.body.items.map((d: any) => d.id)).toEqual([mine]);
    const theirList = await otherOrgAdmin.get('/api/devices?tag=iso');
    expect(theirList.body.items.map((d: any) => d.id)).toEqual([theirs]);
    for (const r of [
      await admin.get(`/api/devices/${theirs}`),
      await admin.patch(`/api/devices/${theirs}`, { name: 'pwned' }),
      await admin.put(`/api/devices/${theirs}/tags`, { tags: ['pwned'] }),
      await admin.post(`/api/devices/${theirs}/revoke`, {}),
      await admin.delete(`/api/devices/${theirs}`),
      await admin.post('/api/grants', {
        userId: (await me(admin)).user.id,
        deviceId: theirs,
        role: 'admin',
      }),
    ]) {
      expect(r.status).toBe(404);
    }
    expect((await otherOrgAdmin.get(`/api/devices/${theirs}`)).body.name).not.toBe('pwned');
    const theirCodes = await otherOrgAdmin.get('/api/claim-codes');
    const myCodes = await admin.get('/api/claim-codes');
    const theirIds = new Set(theirCodes.body.map((c: any) => c.id));
    expect(myCodes.body.some((c: any) => theirIds.has(c.id))).toBe(false);
    expect((await admin.post(`/api/claim-codes/${theirCodes.body[0].id}/revoke`)).status).toBe(404);
    const theirAudit = await otherOrgAdmin.get('/api/audit');
    expect(theirAudit.body.items.every((e: any) => e.targetId !== mine)).toBe(true);
  });

  it('members see only granted devices; admin-only routes refuse them', async () => {
    const created = await admin.post('/api/users', { ...MEMBER, role: 'member' });
    expect(created.status).toBe(201);
    const memberId = created.body.id;
    const member = await new Api(registrar.url).login(MEMBER.email, MEMBER.password);

    const direct = await enrollDevice(admin, [], 'direct');
    const tagged = await enrollDevice(admin, ['floor-2']);
    const hidden = await enrollDevice(admin, ['floor-3']);
    expect((await member.get('/api/devices')).body.items).toEqual([]);
    expect((await member.get(`/api/devices/${direct}`)).status).toBe(404);

    const g1 = await admin.post('/api/grants', {
      userId: memberId,
      deviceId: direct,
      role: 'viewer',
    });
    expect(g1.status).toBe(201);
    const g2 = await admin.post('/api/grants', {
      userId: memberId,
      deviceTag: 'floor-2',
      role: 'operator',
    });
    expect(g2.status).toBe(201);
    const visible = (await member.get('/api/devices')).body.items.map((d: any) => d.id).sort();
    expect(visible).toEqual([direct, tagged].sort());
    expect((await member.get(`/api/devices/${hidden}`)).status).toBe(404);
    expect((await member.get(`/api/devices?tag=floor-3`)).body.total).toBe(0);

    // Viewer/operator grants do not allow managing the device.
    const rename = await member.patch(`/api/devices/${direct}`, { name: 'mine now' });
    expect(rename.status).toBe(403);
    expect(rename.body.code).toBe('FORBIDDEN');
    for (const r of [
      await member.post('/api/claim-codes', {}),
      await member.get('/api/grants'),
      await member.post('/api/grants', { userId: memberId, deviceId: hidden, role: 'admin' }),
      await member.get('/api/audit'),
      await member.post('/api/users', { ...MEMBER, email: 'x@example.com', role: 'member' }),
    ]) {
      expect(r.status).toBe(403);
    }
    // An admin grant on the device does.
    await admin.patch(`/api/grants/${g1.body.id}`, { role: 'admin' });
    expect((await member.patch(`/api/devices/${direct}`, { name: 'mine now' })).status).toBe(200);

    // Removing the grant removes visibility.
    expect((await admin.delete(`/api/grants/${g2.body.id}`)).status).toBe(204);
    expect((await member.get(`/api/devices/${tagged}`)).status).toBe(404);
  });

  it('an admin cannot create an owner', async () => {
    const created = await admin.post('/api/users', {
      email: 'admin2@example.com',
      name: 'Admin Two',
      password: 'admin two password',
      role: 'admin',
    });
    expect(created.status).toBe(201);
    const admin2 = await new Api(registrar.url).login('admin2@example.com', 'admin two password');
    const r = await admin2.post('/api/users', { ...MEMBER, email: 'o@example.com', role: 'owner' });
    expect(r.status).toBe(403);
  });
});

async function me(api: Api): Promise<any> {
  return (await api.get('/api/auth/me')).body;
}

describe('devices', () => {
  it('lists with filters, renames, tags, revokes and deletes, each audited', async () => {
    const a = await enrollDevice(admin, ['lab'], 'alpha-cam');
    const b = await enrollDevice(admin, ['lab', 'outdoor'], 'beta-cam');
    expect((await admin.get('/api/devices?tag=outdoor')).body.items.map((d: any) => d.id)).toEqual([
      b,
    ]);
    expect((await admin.get('/api/devices?search=ALPHA')).body.items.map((d: any) => d.id)).toEqual(
      [a],
    );
    expect((await admin.get('/api/devices?status=online')).body.total).toBe(0);
    const paged = await admin.get('/api/devices?tag=lab&limit=1&offset=1');
    expect(paged.body).toMatchObject({ total: 2, items: [{ id: b }] });

    expect((await admin.patch(`/api/devices/${a}`, { name: 'gamma-cam' })).body.name).toBe(
      'gamma-cam',
    );
    const tagged = await admin.put(`/api/devices/${a}/tags`, { tags: ['z', 'lab', 'z'] });
    expect(tagged.body.tags).toEqual(['lab', 'z']);
    expect((await admin.post(`/api/devices/${b}/revoke`, {})).body.status).toBe('revoked');
    expect(
      (await admin.get('/api/devices?status=revoked')).body.items.map((d: any) => d.id),
    ).toEqual([b]);
    expect((await admin.delete(`/api/devices/${a}`)).status).toBe(204);
    expect((await admin.get(`/api/devices/${a}`)).status).toBe(404);
    expect((await admin.delete(`/api/devices/${a}`)).status).toBe(404);

    const log = (await admin.get('/api/audit?limit=500')).body.items;
    const actions = (id: string) =>
      log.filter((e: any) => e.targetId === id).map((e: any) => e.action);
    expect(actions(a)).toEqual(
      expect.arrayContaining(['device.enroll', 'device.rename', 'device.tag', 'device.delete']),
    );
    expect(actions(b)).toEqual(expect.arrayContaining(['device.enroll', 'device.revoke_key']));
    const rename = log.find((e: any) => e.action === 'device.rename' && e.targetId === a);
    expect(rename).toMatchObject({
      actorType: 'user',
      actorId: (await me(admin)).user.id,
      details: { from: 'alpha-cam', to: 'gamma-cam' },
      sourceIp: expect.stringMatching(/127\.0\.0\.1/),
    });
  });
});

describe('grants', () => {
  it('validates subject and target, and round-trips', async () => {
    const dev = await enrollDevice(admin);
    const userId = (await me(admin)).user.id;
    const both = await admin.post('/api/grants', {
      userId,
      deviceId: dev,
      deviceTag: 'x',
      role: 'viewer',
    });
    expect(both.status).toBe(400);
    const none = await admin.post('/api/grants', { deviceId: dev, role: 'viewer' });
    expect(none.status).toBe(400);
    const badRole = await admin.post('/api/grants', { userId, deviceId: dev, role: 'root' });
    expect(badRole.status).toBe(400);
    const unknownGroup = await admin.post('/api/grants', {
      groupId: '00000000-0000-4000-8000-000000000000',
      deviceId: dev,
      role: 'viewer',
    });
    expect(unknownGroup.status).toBe(404);
    const g = await admin.post('/api/grants', { userId, deviceId: dev, role: 'viewer' });
    expect(g.status).toBe(201);
    expect((await admin.get(`/api/grants/${g.body.id}`)).body).toEqual(g.body);
    expect((await admin.get(`/api/grants?deviceId=${dev}`)).body).toEqual([g.body]);
    expect((await admin.patch(`/api/grants/${g.body.id}`, { role: 'operator' })).body.role).toBe(
      'operator',
    );
    expect((await admin.delete(`/api/grants/${g.body.id}`)).status).toBe(204);
    expect((await admin.get(`/api/grants/${g.body.id}`)).status).toBe(404);
    const audit = (await admin.get(`/api/audit?targetId=${g.body.id}`)).body.items.map(
      (e: any) => e.action,
    );
    expect(audit).toEqual(['grant.delete', 'grant.update', 'grant.create']);
  });
});

describe('audit', () => {
  it('pages newest first with a cursor and filters by action', async () => {
    for (let i = 0; i < 5; i++) await admin.post('/api/claim-codes', { label: `page-${i}` });
    const first = await admin.get('/api/audit?action=claim_code.create&limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(first.body.items[1].id);
    const second = await admin.get(
      `/api/audit?action=claim_code.create&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items).toHaveLength(2);
    expect(BigInt(second.body.items[0].id)).toBeLessThan(BigInt(first.body.items[1].id));
    const labels = [...first.body.items, ...second.body.items].map((e: any) => e.details.label);
    expect(labels.slice(0, 4)).toEqual(['page-4', 'page-3', 'page-2', 'page-1']);
    expect((await admin.get('/api/audit?cursor=abc')).status).toBe(400);
    expect((await admin.get('/api/audit?limit=0')).status).toBe(400);
  });
});

describe('observability', () => {
  it('serves health, readiness, metrics with HTTP byte counters, and OpenAPI', async () => {
    expect(await (await fetch(`${registrar.url}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${registrar.url}/ready`)).json()).toEqual({
      status: 'ready',
      database: 'postgresql',
      mqtt: 'connected',
    });
    const metrics = await (await fetch(`${registrar.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);
    expect(value('registrar_http_bytes_in_total')).toBeGreaterThan(0);
    expect(value('registrar_http_bytes_out_total')).toBeGreaterThan(0);
    expect(metrics).toContain('registrar_ws_bytes_in_total 0');
    expect(metrics).toMatch(
      /registrar_http_requests_total\{method="POST",route="\/api\/auth\/login",status="200"\}/,
    );
    const doc = (await (await fetch(`${registrar.url}/api/docs-json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/enroll',
        '/api/enroll/challenge',
        '/api/devices/{id}',
        '/api/grants',
      ]),
    );
    expect((await fetch(`${registrar.url}/api/docs`)).status).toBe(200);
  });

  it('answers unknown routes with a coded 404', async () => {
    const r = await admin.get('/api/nope');
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_FOUND');
  });
});
