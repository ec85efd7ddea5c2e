// Members of an organization against the real PostgreSQL: changing a role and removing a
// member (admins and owners only; never yourself, never above your own role; the last owner
// stays), what a removal takes with it (grants, group memberships, login sessions: the
// removed user's next request is 401 and no session with a device is issued; their sessions
// in other orgs stay), org isolation, hostile input → 400, and the audit trail.
import { createSigner, exportPublicJwk, generateKeyPair } from '@peerfetch/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import { AuthService } from '../src/auth/auth.service.js';
import { DomainError } from '../src/common/errors.js';
import { UsersService } from '../src/users/users.service.js';
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
let replica: Registrar;
let owner: Api;
let ownerId: string;
let otherOwner: Api;
let deviceId: string;
const PASSWORD = 'member password 123';
let counter = 0;

/** A new member of the first org with `role`, signed in. */
async function addMember(role: 'owner' | 'admin' | 'member') {
  const email = `m${++counter}@example.com`;
  const created = await owner.post('/api/users', {
    email,
    name: `M${counter}`,
    password: PASSWORD,
    role,
  });
  expect(created.status).toBe(201);
  const api = await new Api(registrar.url).login(email, PASSWORD);
  return { api, id: created.body.id as string, email };
}

const sessionKey = () => exportPublicJwk(createSigner(generateKeyPair()).publicKey);
const requestSession = (api: Api) =>
  api.post('/api/sessions', { deviceId, sessionKey: sessionKey() });
const roleOf = async (id: string) =>
  ((await owner.get('/api/users')).body as { id: string; role: string }[]).find((u) => u.id === id)
    ?.role;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    LOGIN_RATE_LIMIT: '1000',
  });
  replica = await startRegistrar({ DATABASE_URL: db.url, DATA_DIR: dir.path });
  owner = await new Api(registrar.url).login();
  ownerId = (await owner.get('/api/auth/me')).body.user.id;
  const code = await owner.post('/api/claim-codes', { tags: ['cam'] });
  deviceId = (await newAgent().enroll(owner, code.body.code)).body.deviceId;
  otherOwner = await signInToOtherOrg(registrar);
});

afterAll(async () => {
  await replica?.close();
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

describe('changing a role', () => {
  it('an owner promotes and demotes; the change applies to the member at once', async () => {
    const m = await addMember('member');
    expect((await m.api.get('/api/audit')).status).toBe(403);
    const up = await owner.patch(`/api/users/${m.id}`, { role: 'admin' });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ id: m.id, email: m.email, role: 'admin' });
    // The same login session: the next request sees the new role.
    expect((await m.api.get('/api/audit')).status).toBe(200);
    const down = await owner.patch(`/api/users/${m.id}`, { role: 'member' });
    expect(down.body.role).toBe('member');
    expect((await m.api.get('/api/audit')).status).toBe(403);
    expect(await roleOf(m.id)).toBe('member');
  });

  it('refuses your own role, roles above yours, members above you, and non-admins', async () => {
    const admin = await addMember('admin');
    const target = await addMember('member');
    const anOwner = await addMember('owner');
    const self = await admin.api.patch(`/api/users/${admin.id}`, { role: 'member' });
    expect(self.status).toBe(403);
    expect(self.body.message).toMatch(/your own role/);
    const above = await admin.api.patch(`/api/users/${target.id}`, { role: 'owner' });
    expect(above.status).toBe(403);
    expect(above.body.message).toMatch(/above your own/);
    const onOwner = await admin.api.patch(`/api/users/${anOwner.id}`, { role: 'member' });
    expect(onOwner.status).toBe(403);
    expect((await target.api.patch(`/api/users/${admin.id}`, { role: 'member' })).status).toBe(403);
    // An admin may change a member to admin (not above their own).
    expect((await admin.api.patch(`/api/users/${target.id}`, { role: 'admin' })).status).toBe(200);
    // Nothing was changed by the refusals.
    expect(await roleOf(admin.id)).toBe('admin');
    expect(await roleOf(anOwner.id)).toBe('owner');
  });

  it('two owners demoting each other at once: one wins, the other is refused', async () => {
    const a = await addMember('owner');
    const b = await addMember('owner');
    // Both requests authenticated before either change (as two requests in flight are), on
    // two replicas (two connection pools): the service must re-read the actor under the
    // org's lock.
    const auth = registrar.app.get(AuthService);
    const [pa, pb] = await Promise.all([
      auth.authenticate(a.api.token!),
      auth.authenticate(b.api.token!),
    ]);
    const users = registrar.app.get(UsersService);
    const usersOnReplica = replica.app.get(UsersService);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof DomainError ? e.code : 'thrown'),
      );
    const results = await Promise.all([
      outcome(users.changeRole(pa!, b.id, 'member', null)),
      outcome(usersOnReplica.changeRole(pb!, a.id, 'member', null)),
    ]);
    expect(results.sort()).toEqual(['FORBIDDEN', 'ok']);
    expect([await roleOf(a.id), await roleOf(b.id)].sort()).toEqual(['member', 'owner']);
    // Through the API: the demoted owner's next request is refused.
    const loser = (await roleOf(a.id)) === 'member' ? a : b;
    const winner = loser === a ? b : a;
    expect((await loser.api.patch(`/api/users/${winner.id}`, { role: 'member' })).status).toBe(403);
  });

  it('an owner may remove another owner; the one left cannot step down', async () => {
    // In the other org the only owner is other@example.com: add a second owner there.
    const created = await otherOwner.post('/api/users', {
      email: 'other-owner@example.com',
      name: 'Other owner',
      password: PASSWORD,
      role: 'owner',
    });
    expect(created.status).toBe(201);
    const second = await new Api(registrar.url).login('other-owner@example.com', PASSWORD);
    const firstId = (await otherOwner.get('/api/auth/me')).body.user.id as string;
    expect((await second.delete(`/api/users/${firstId}`)).status).toBe(204);
    expect((await otherOwner.get('/api/users')).status).toBe(401);
    const stepDown = await second.patch(`/api/users/${created.body.id}`, { role: 'admin' });
    expect(stepDown.status).toBe(403);
    const members = (await second.get('/api/users')).body as { role: string }[];
    expect(members.map((u) => u.role)).toEqual(['owner']);
  });

  it('answers 404 for a member of another org or nobody, 400 for hostile input', async () => {
    const admin = await addMember('admin');
    // A member of the first org, addressed by the second org's owner: not found there.
    const otherOrgOwner = await new Api(registrar.url).login('other-owner@example.com', PASSWORD);
    expect((await otherOrgOwner.patch(`/api/users/${admin.id}`, { role: 'member' })).status).toBe(
      404,
    );
    expect((await otherOrgOwner.delete(`/api/users/${admin.id}`)).status).toBe(404);
    expect(await roleOf(admin.id)).toBe('admin');
    const nobody = '00000000-0000-4000-8000-000000000000';
    expect((await owner.patch(`/api/users/${nobody}`, { role: 'member' })).status).toBe(404);
    for (const body of [{}, { role: 'root' }, { role: 'admin', extra: 1 }, { role: ['admin'] }]) {
      const r = await owner.patch(`/api/users/${admin.id}`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect((await owner.patch('/api/users/not-a-uuid', { role: 'member' })).status).toBe(400);
    expect((await owner.delete('/api/users/not-a-uuid')).status).toBe(400);
    expect(await roleOf(admin.id)).toBe('admin');
  });
});

describe('removing a member', () => {
  it('takes their grants, group memberships and login sessions; no new device session', async () => {
    const m = await addMember('member');
    const second = await new Api(registrar.url).login(m.email, PASSWORD);
    const grant = await owner.post('/api/grants', { userId: m.id, deviceId, role: 'viewer' });
    expect(grant.status).toBe(201);
    const group = await owner.post('/api/groups', { name: `g-${m.id}` });
    expect((await owner.put(`/api/groups/${group.body.id}/members/${m.id}`, {})).status).toBe(200);
    expect((await requestSession(m.api)).status).toBe(201);

    const removed = await owner.delete(`/api/users/${m.id}`);
    expect(removed.status).toBe(204);

    // Every login session of theirs in this org is gone.
    expect((await m.api.get('/api/auth/me')).status).toBe(401);
    expect((await second.get('/api/devices')).status).toBe(401);
    expect((await requestSession(m.api)).status).toBe(401);
    // Their grants and group membership went with the membership.
    const grants = (await owner.get('/api/grants')).body as { id: string }[];
    expect(grants.map((g) => g.id)).not.toContain(grant.body.id);
    const groups = (await owner.get('/api/groups')).body as {
      id: string;
      memberIds: string[];
    }[];
    expect(groups.find((g) => g.id === group.body.id)?.memberIds).toEqual([]);
    expect(await roleOf(m.id)).toBeUndefined();
    // They cannot sign in to this org any more (they belong to no org at all).
    const login = await new Api(registrar.url).request('POST', '/api/auth/login', {
      body: { email: m.email, password: PASSWORD },
      token: null,
    });
    expect(login.status).toBe(401);
    // A second removal: not found.
    expect((await owner.delete(`/api/users/${m.id}`)).status).toBe(404);
  });

  it('ends only the sessions in the org they were removed from', async () => {
    const m = await addMember('member');
    // The same person is also a member of the other organization, signed in there (whose
    // owner is other-owner@ since an earlier test).
    const otherOrgOwner = await new Api(registrar.url).login('other-owner@example.com', PASSWORD);
    const inOther = await otherOrgOwner.post('/api/users', {
      email: m.email,
      name: 'ignored',
      password: 'ignored for an existing user',
      role: 'member',
    });
    expect(inOther.status).toBe(201);
    const otherOrgId = (await otherOrgOwner.get('/api/auth/me')).body.orgId as string;
    const there = await new Api(registrar.url).request('POST', '/api/auth/login', {
      body: { email: m.email, password: PASSWORD, orgId: otherOrgId },
      token: null,
    });
    expect(there.status).toBe(200);
    const elsewhere = new Api(registrar.url, there.body.token);
    expect((await elsewhere.get('/api/auth/me')).body.orgId).toBe(otherOrgId);

    expect((await owner.delete(`/api/users/${m.id}`)).status).toBe(204);
    expect((await m.api.get('/api/auth/me')).status).toBe(401);
    expect((await elsewhere.get('/api/auth/me')).status).toBe(200);
    expect((await elsewhere.get('/api/users')).status).toBe(200);
  });

  it('refuses yourself, members above you and non-admins; a removed user can be added back', async () => {
    const admin = await addMember('admin');
    const member = await addMember('member');
    const self = await admin.api.delete(`/api/users/${admin.id}`);
    expect(self.status).toBe(403);
    expect(self.body.message).toMatch(/remove yourself/);
    expect((await admin.api.delete(`/api/users/${ownerId}`)).status).toBe(403);
    expect((await member.api.delete(`/api/users/${admin.id}`)).status).toBe(403);
    expect(await roleOf(admin.id)).toBe('admin');
    // An admin may remove a member…
    expect((await admin.api.delete(`/api/users/${member.id}`)).status).toBe(204);
    // …who can be added back (same user, same password) and signs in again.
    const back = await owner.post('/api/users', {
      email: member.email,
      name: 'Back',
      password: 'ignored for an existing user',
      role: 'member',
    });
    expect(back.status).toBe(201);
    expect(back.body.id).toBe(member.id);
    expect((await new Api(registrar.url).login(member.email, PASSWORD)).token).toBeTruthy();
  });

  it('is audited, with who did it and what the member was', async () => {
    const m = await addMember('member');
    await owner.patch(`/api/users/${m.id}`, { role: 'admin' });
    await owner.patch(`/api/users/${m.id}`, { role: 'admin' }); // no change: not audited
    await owner.delete(`/api/users/${m.id}`);
    const events = (await owner.get(`/api/audit?limit=200`)).body.items as any[];
    const about = events.filter((e) => e.targetId === m.id && e.action !== 'user.create');
    expect(about.map((e) => e.action).sort()).toEqual(['user.remove', 'user.role_change']);
    expect(about.find((e) => e.action === 'user.role_change')).toMatchObject({
      actorId: ownerId,
      details: { email: m.email, from: 'member', to: 'admin' },
    });
    expect(about.find((e) => e.action === 'user.remove')).toMatchObject({
      actorId: ownerId,
      details: { email: m.email, role: 'admin' },
    });
  });
});
