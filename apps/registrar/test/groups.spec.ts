// Groups against the real PostgreSQL: CRUD and membership (admins only; members see the
// groups they are in), org isolation, a group grant giving a session that ends with the
// membership or the group, hostile input → 400, and the audit trail.
import { createSigner, exportPublicJwk, generateKeyPair } from '@peerfetch/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import {
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
let member: Api;
let memberId: string;
let otherAdmin: Api;
let otherAdminId: string;
let deviceId: string;

const MEMBER = { email: 'member@example.com', name: 'Member', password: 'member password 123' };

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    LOGIN_RATE_LIMIT: '1000',
  });
  admin = await new Api(registrar.url).login();
  const created = await admin.post('/api/users', { ...MEMBER, role: 'member' });
  memberId = created.body.id;
  member = await new Api(registrar.url).login(MEMBER.email, MEMBER.password);
  const code = await admin.post('/api/claim-codes', { tags: ['cam'] });
  deviceId = (await newAgent().enroll(admin, code.body.code)).body.deviceId;
  otherAdmin = await signInToOtherOrg(registrar);
  otherAdminId = (await otherAdmin.get('/api/auth/me')).body.user.id;
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

async function createGroup(name: string, api = admin): Promise<{ id: string; name: string }> {
  const r = await api.post('/api/groups', { name });
  expect(r.status, r.text).toBe(201);
  return r.body;
}

async function auditOf(action: string): Promise<any[]> {
  const r = await admin.get(`/api/audit?action=${action}&limit=100`);
  expect(r.status).toBe(200);
  return r.body.items;
}

function requestSession(api: Api) {
  return api.post('/api/sessions', {
    deviceId,
    sessionKey: exportPublicJwk(createSigner(generateKeyPair()).publicKey),
  });
}

describe('group CRUD and membership', () => {
  it('creates, lists, renames and deletes; duplicate names are a 409', async () => {
    const ops = await createGroup('  Operations ');
    expect(ops).toMatchObject({ name: 'Operations', memberIds: [], memberCount: 0 });
    const dup = await admin.post('/api/groups', { name: 'Operations' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'CONFLICT' });
    expect(dup.body.message).toContain('Operations');

    const lab = await createGroup('Lab');
    const list = await admin.get('/api/groups');
    expect(list.status).toBe(200);
    expect(list.body.map((g: any) => g.name)).toEqual(['Lab', 'Operations']);

    const renamed = await admin.patch(`/api/groups/${ops.id}`, { name: 'Ops' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ id: ops.id, name: 'Ops' });
    const clash = await admin.patch(`/api/groups/${ops.id}`, { name: 'Lab' });
    expect(clash.status).toBe(409);
    // The name a clash refused is free again once its holder is renamed away.
    expect((await admin.patch(`/api/groups/${lab.id}`, { name: 'Lab 2' })).status).toBe(200);
    expect((await admin.patch(`/api/groups/${ops.id}`, { name: 'Lab' })).status).toBe(200);
    // Renaming to the same name changes nothing and is not audited.
    expect((await admin.patch(`/api/groups/${ops.id}`, { name: 'Lab' })).status).toBe(200);

    expect((await admin.delete(`/api/groups/${lab.id}`)).status).toBe(204);
    expect((await admin.delete(`/api/groups/${lab.id}`)).status).toBe(404);
    expect((await admin.patch(`/api/groups/${lab.id}`, { name: 'x' })).status).toBe(404);
    expect((await admin.get('/api/groups')).body.map((g: any) => g.name)).toEqual(['Lab']);

    expect((await auditOf('group.create')).map((e) => e.details.name).sort()).toEqual([
      'Lab',
      'Operations',
    ]);
    const renames = (await auditOf('group.rename')).map((e) => `${e.details.from}>${e.details.to}`);
    expect(renames.sort()).toEqual(['Lab>Lab 2', 'Operations>Ops', 'Ops>Lab']);
    const deleted = await auditOf('group.delete');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ targetType: 'group', targetId: lab.id });
    expect(deleted[0].details).toMatchObject({ name: 'Lab 2', memberCount: 0, grantIds: [] });
    await admin.delete(`/api/groups/${ops.id}`);
  });

  it('adds and removes members idempotently; only members of the org', async () => {
    const g = await createGroup('Members');
    const me = (await admin.get('/api/auth/me')).body.user.id;
    const add = await admin.put(`/api/groups/${g.id}/members/${memberId}`, {});
    expect(add.status, add.text).toBe(200);
    expect(add.body).toMatchObject({ memberIds: [memberId], memberCount: 1 });
    const again = await admin.put(`/api/groups/${g.id}/members/${memberId}`, {});
    expect(again.body).toMatchObject({ memberIds: [memberId], memberCount: 1 });
    // Without a body, as the console sends it.
    const both = await admin.request('PUT', `/api/groups/${g.id}/members/${me}`);
    expect(both.status, both.text).toBe(200);
    expect([...both.body.memberIds].sort()).toEqual([memberId, me].sort());
    expect(both.body.memberCount).toBe(2);

    // Not a member of this org (a user of another org, an unknown id): 404.
    for (const userId of [otherAdminId, '00000000-0000-4000-8000-000000000000']) {
      const r = await admin.put(`/api/groups/${g.id}/members/${userId}`, {});
      expect(r.status).toBe(404);
      expect(r.body.message).toBe('user not found');
      expect((await admin.delete(`/api/groups/${g.id}/members/${userId}`)).status).toBe(404);
    }
    const unknownGroup = await admin.put(
      `/api/groups/00000000-0000-4000-8000-000000000000/members/${memberId}`,
      {},
    );
    expect(unknownGroup.status).toBe(404);
    expect(unknownGroup.body.message).toBe('group not found');

    const removed = await admin.delete(`/api/groups/${g.id}/members/${memberId}`);
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body).toMatchObject({ memberIds: [me], memberCount: 1 });
    const removedAgain = await admin.delete(`/api/groups/${g.id}/members/${memberId}`);
    expect(removedAgain.status).toBe(200);
    expect(removedAgain.body.memberIds).toEqual([me]);

    // Audited once per change, not per call.
    const adds = (await auditOf('group.member_add')).filter((e) => e.targetId === g.id);
    expect(adds.map((e) => e.details.userId).sort()).toEqual([memberId, me].sort());
    const removes = (await auditOf('group.member_remove')).filter((e) => e.targetId === g.id);
    expect(removes.map((e) => e.details.userId)).toEqual([memberId]);
    expect(removes[0]).toMatchObject({ actorId: me, targetType: 'group' });
    await admin.delete(`/api/groups/${g.id}`);
  });

  it('members cannot manage groups and see only the groups they are in', async () => {
    const mine = await createGroup('Mine');
    const notMine = await createGroup('Not mine');
    await admin.put(`/api/groups/${mine.id}/members/${memberId}`, {});
    const me = (await admin.get('/api/auth/me')).body.user.id;
    await admin.put(`/api/groups/${mine.id}/members/${me}`, {});

    const seen = await member.get('/api/groups');
    expect(seen.status).toBe(200);
    // Their groups only, and of the members only themselves.
    expect(seen.body).toEqual([
      expect.objectContaining({ id: mine.id, name: 'Mine', memberIds: [memberId], memberCount: 2 }),
    ]);
    for (const r of [
      await member.post('/api/groups', { name: 'Mutiny' }),
      await member.patch(`/api/groups/${notMine.id}`, { name: 'Mutiny' }),
      await member.delete(`/api/groups/${notMine.id}`),
      await member.put(`/api/groups/${notMine.id}/members/${memberId}`, {}),
      await member.delete(`/api/groups/${mine.id}/members/${memberId}`),
    ]) {
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('FORBIDDEN');
    }
    const names = (await admin.get('/api/groups')).body.map((g: any) => g.name);
    expect(names).toEqual(['Mine', 'Not mine']);
    expect((await admin.get('/api/groups')).body[0].memberCount).toBe(2);
    await admin.delete(`/api/groups/${mine.id}`);
    await admin.delete(`/api/groups/${notMine.id}`);
  });

  it('another organization neither sees nor changes this one’s groups', async () => {
    const g = await createGroup('Private');
    await admin.put(`/api/groups/${g.id}/members/${memberId}`, {});
    expect((await otherAdmin.get('/api/groups')).body).toEqual([]);
    for (const r of [
      await otherAdmin.patch(`/api/groups/${g.id}`, { name: 'pwned' }),
      await otherAdmin.delete(`/api/groups/${g.id}/members/${memberId}`),
      await otherAdmin.put(`/api/groups/${g.id}/members/${otherAdminId}`, {}),
      await otherAdmin.delete(`/api/groups/${g.id}`),
      await otherAdmin.post('/api/grants', { groupId: g.id, deviceTag: 'cam', role: 'admin' }),
    ]) {
      expect(r.status).toBe(404);
    }
    // The same name is free in another organization.
    expect((await otherAdmin.post('/api/groups', { name: 'Private' })).status).toBe(201);
    const after = (await admin.get('/api/groups')).body.find((x: any) => x.id === g.id);
    expect(after).toMatchObject({ name: 'Private', memberIds: [memberId] });
    await admin.delete(`/api/groups/${g.id}`);
  });
});

describe('group grants', () => {
  it('a member in a group with a viewer grant gets a viewer session, until out of the group', async () => {
    // No direct grant: refused.
    expect((await requestSession(member)).status).toBe(404);
    const g = await createGroup('Viewers');
    const grant = await admin.post('/api/grants', {
      groupId: g.id,
      deviceId,
      role: 'viewer',
    });
    expect(grant.status, grant.text).toBe(201);
    expect(grant.body).toMatchObject({ subjectType: 'group', groupId: g.id, userId: null });
    // A grant to a group with nobody in it gives nobody access.
    expect((await requestSession(member)).status).toBe(404);

    await admin.put(`/api/groups/${g.id}/members/${memberId}`, {});
    const ok = await requestSession(member);
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body).toMatchObject({ deviceId, role: 'viewer' });
    expect((await member.get(`/api/devices/${deviceId}`)).status).toBe(200);
    const asOperator = await member.post('/api/sessions', {
      deviceId,
      sessionKey: exportPublicJwk(createSigner(generateKeyPair()).publicKey),
      role: 'operator',
    });
    expect(asOperator.status).toBe(403);

    await admin.delete(`/api/groups/${g.id}/members/${memberId}`);
    const refused = await requestSession(member);
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({ code: 'NOT_FOUND', message: 'device not found' });
    expect((await member.get(`/api/devices/${deviceId}`)).status).toBe(404);

    // Back in, then the group is deleted: its grant goes with it.
    await admin.put(`/api/groups/${g.id}/members/${memberId}`, {});
    expect((await requestSession(member)).status).toBe(201);
    expect((await admin.delete(`/api/groups/${g.id}`)).status).toBe(204);
    expect((await requestSession(member)).status).toBe(404);
    expect((await admin.get(`/api/grants/${grant.body.id}`)).status).toBe(404);
    const rows = await db.sql('SELECT count(*)::int AS n FROM group_members WHERE group_id = $1', [
      g.id,
    ]);
    expect(rows[0]?.['n']).toBe(0);
    const deleted = (await auditOf('group.delete')).find((e) => e.targetId === g.id);
    expect(deleted.details).toMatchObject({ name: 'Viewers', memberCount: 1 });
    expect(deleted.details.grantIds).toEqual([grant.body.id]);
  });

  it('a tag grant to a group applies to its members', async () => {
    const g = await createGroup('Cameras');
    await admin.post('/api/grants', { groupId: g.id, deviceTag: 'cam', role: 'operator' });
    await admin.put(`/api/groups/${g.id}/members/${memberId}`, {});
    const r = await requestSession(member);
    expect(r.status, r.text).toBe(201);
    expect(r.body.role).toBe('operator');
    await admin.delete(`/api/groups/${g.id}`);
    expect((await requestSession(member)).status).toBe(404);
  });
});

describe('hostile input', () => {
  it('unknown fields, bad ids, blank, oversized and control-character names → 400', async () => {
    const g = await createGroup('Input');
    const bodies: unknown[] = [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'bad\u0000name' },
      { name: 'a\u202Eb' },
      { name: 'tab\there' },
      { name: 42 },
      { name: ['a'] },
      { name: null },
      { name: 'ok', isAdmin: true },
      { name: 'ok', orgId: '00000000-0000-4000-8000-000000000000' },
    ];
    for (const body of bodies) {
      for (const r of [
        await admin.post('/api/groups', body),
        await admin.patch(`/api/groups/${g.id}`, body),
      ]) {
        expect(r.status, `${JSON.stringify(body)} ${r.text}`).toBe(400);
        expect(r.body.code).toBe('VALIDATION_FAILED');
      }
    }
    const unknown = await admin.post('/api/groups', { name: 'ok', isAdmin: true });
    expect(unknown.body.details).toContain('property isAdmin should not exist');
    expect((await admin.post('/api/groups', { name: 'x'.repeat(100) })).status).toBe(201);

    for (const r of [
      await admin.patch('/api/groups/not-a-uuid', { name: 'x' }),
      await admin.delete('/api/groups/not-a-uuid'),
      await admin.put(`/api/groups/not-a-uuid/members/${memberId}`, {}),
      await admin.put(`/api/groups/${g.id}/members/not-a-uuid`, {}),
      await admin.delete(`/api/groups/${g.id}/members/1' OR '1'='1`),
    ]) {
      expect(r.status, r.text).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    const raw = await admin.request('POST', '/api/groups', { raw: '{"name":' });
    expect(raw.status).toBe(400);
    expect(raw.body.code).toBe('MALFORMED_BODY');
    // Nothing refused was stored.
    const names: string[] = (await admin.get('/api/groups')).body.map((x: any) => x.name);
    expect(names).toEqual(expect.arrayContaining(['Input', 'x'.repeat(100)]));
    expect(names.filter((n) => n === 'ok' || n.trim() === '' || /[\p{Cc}\p{Cf}]/u.test(n))).toEqual(
      [],
    );
  });
});
