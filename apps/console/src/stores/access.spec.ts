import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { DEMO_IDS } from '../testing/fake-registrar.js';
import { setupTest, type TestContext } from '../testing/setup.js';
import { useAccessStore } from './access.js';
import { useAuthStore } from './auth.js';

const I = DEMO_IDS;
let ctx: TestContext;
beforeEach(async () => {
  ctx = setupTest({ signedIn: true });
  await useAuthStore().restore();
});

describe('access store', () => {
  it('loads people and grants together', async () => {
    const access = useAccessStore();
    await access.load();
    expect(access.grants).toHaveLength(1);
    expect(access.users.map((u) => u.email)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(access.userLabel(I.bob)).toBe('Bob Builder');
    expect(access.userLabel('12345678-unknown')).toBe('12345678');
    expect(access.subjectLabel(access.grants[0]!)).toBe('Bob Builder');
  });

  it('does not ask for grants when the user is not an admin', async () => {
    ctx.registrar.signIn(I.bob);
    const auth = useAuthStore();
    auth.sessionExpired();
    await auth.signIn('bob@example.com', 'hunter2hunter2');
    const access = useAccessStore();
    await access.load();
    expect(access.error).toBeNull();
    expect(access.users).toHaveLength(2);
    expect(ctx.platform.requests.some((r) => r.url.includes('/api/grants'))).toBe(false);
  });

  it('finds the grants that apply to a device directly or by tag', async () => {
    const access = useAccessStore();
    await access.load();
    const direct = await access.createGrant({
      subject: { kind: 'user', userId: I.bob },
      target: { kind: 'device', deviceId: I.kiosk },
      role: 'operator',
    });
    const tagGrant = access.grants[0]?.id;
    expect(access.grantsFor({ id: I.kiosk, tags: ['site:north'] }).map((g) => g.id)).toEqual([
      tagGrant,
      direct.id,
    ]);
    expect(access.grantsFor({ id: I.dock, tags: [] })).toEqual([]);
  });

  it('finds the grants given to one person or one group', async () => {
    const access = useAccessStore();
    await access.load();
    const g = await access.createGroup('Crew');
    const toGroup = await access.createGrant({
      subject: { kind: 'group', groupId: g.id },
      target: { kind: 'device', deviceId: I.kiosk },
      role: 'viewer',
    });
    const bobs = access.grants.filter((x) => x.subject.kind === 'user').map((x) => x.id);
    expect(bobs.length).toBeGreaterThan(0);
    expect(access.grantsOf('user', I.bob).map((x) => x.id)).toEqual(bobs);
    expect(access.grantsOf('group', g.id).map((x) => x.id)).toEqual([toGroup.id]);
    expect(access.grantsOf('user', I.ada)).toEqual([]);
    expect(access.grantsOf('group', I.bob)).toEqual([]); // an id of the other kind
  });

  it('changes a grant’s role and deletes grants', async () => {
    const access = useAccessStore();
    await access.load();
    const id = access.grants[0]?.id ?? '';
    await access.setGrantRole(id, 'operator');
    expect(access.grants[0]?.role).toBe('operator');
    await access.deleteGrant(id);
    expect(access.grants).toEqual([]);
    expect(ctx.registrar.state.grants).toEqual([]);
  });

  it('rejects a grant for someone outside the org and keeps the list', async () => {
    const access = useAccessStore();
    await access.load();
    await expect(
      access.createGrant({
        subject: { kind: 'user', userId: '00000000-0000-4000-8000-0000000000ff' },
        target: { kind: 'tag', tag: 't' },
        role: 'viewer',
      }),
    ).rejects.toMatchObject({ status: 404 });
    expect(access.grants).toHaveLength(1);
  });

  it('adds a person with an initial password', async () => {
    const access = useAccessStore();
    await access.load();
    const user = await access.addUser({
      email: ' eve@example.com ',
      name: ' Eve ',
      password: 'a long enough password',
      role: 'member',
    });
    expect(user).toMatchObject({ email: 'eve@example.com', name: 'Eve' });
    expect(access.users).toHaveLength(3);
    await expect(
      access.addUser({ email: 'x@example.com', name: 'X', password: 'short', role: 'member' }),
    ).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('changes a person’s role; refuses your own and keeps the list', async () => {
    const access = useAccessStore();
    await access.load();
    await access.setUserRole(I.bob, 'admin');
    expect(access.users.find((u) => u.id === I.bob)?.role).toBe('admin');
    await expect(access.setUserRole(I.ada, 'member')).rejects.toMatchObject({
      status: 403,
      message: 'you cannot change your own role',
    });
    expect(access.users.find((u) => u.id === I.ada)?.role).toBe('owner');
    expect(ctx.registrar.state.audit.filter((e) => e.action === 'user.role_change')).toHaveLength(
      1,
    );
  });

  it('removes a person with their grants and group memberships; never yourself', async () => {
    const access = useAccessStore();
    await access.load();
    const g = await access.createGroup('Crew');
    await access.addGroupMember(g.id, I.bob);
    await access.addGroupMember(g.id, I.ada);
    expect(access.grants.some((x) => x.subject.kind === 'user')).toBe(true);
    await access.removeUser(I.bob);
    expect(access.users.map((u) => u.id)).toEqual([I.ada]);
    expect(access.grants.filter((x) => x.subject.kind === 'user')).toEqual([]);
    expect(access.groups.find((x) => x.id === g.id)).toMatchObject({
      memberIds: [I.ada],
      memberCount: 1,
    });
    // What the store shows is what the registrar now holds.
    await access.load();
    expect(access.users.map((u) => u.id)).toEqual([I.ada]);
    expect(access.groups.find((x) => x.id === g.id)?.memberIds).toEqual([I.ada]);
    await expect(access.removeUser(I.ada)).rejects.toMatchObject({ status: 403 });
    expect(access.users.map((u) => u.id)).toEqual([I.ada]);
  });

  it('invites: the token comes back once, a re-invite replaces the open one, revoke works', async () => {
    const access = useAccessStore();
    await access.load();
    expect(access.invites).toEqual([]);
    const first = await access.invite({ email: ' Eve@Example.com ', role: 'member' });
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first).toMatchObject({ email: 'eve@example.com', state: 'pending' });
    // the store never keeps a token
    expect(JSON.stringify(access.invites)).not.toContain(first.token);
    const second = await access.invite({ email: 'eve@example.com', role: 'admin' });
    expect(access.pendingInvites.map((i) => i.id)).toEqual([second.id]);
    expect(access.invites.find((i) => i.id === first.id)?.state).toBe('revoked');
    // what the store shows is what the registrar holds
    await access.load();
    expect(access.pendingInvites.map((i) => i.id)).toEqual([second.id]);
    await access.revokeInvite(second.id);
    expect(access.pendingInvites).toEqual([]);
    expect(ctx.registrar.state.invites.every((i) => i.revokedAt !== null)).toBe(true);
  });

  it('refuses an invitation for a member, and lists none for a non-admin', async () => {
    const access = useAccessStore();
    await access.load();
    await expect(access.invite({ email: 'bob@example.com', role: 'member' })).rejects.toMatchObject(
      { status: 409, code: 'CONFLICT' },
    );
    expect(access.invites).toEqual([]);
    ctx.registrar.signIn(I.bob);
    const auth = useAuthStore();
    auth.sessionExpired();
    await auth.signIn('bob@example.com', 'hunter2hunter2');
    const before = ctx.platform.requests.length;
    await access.load();
    const asked = ctx.platform.requests.slice(before).map((r) => r.url);
    expect(asked.some((u) => u.includes('/api/users'))).toBe(true);
    expect(asked.some((u) => u.includes('/api/invites'))).toBe(false);
  });

  it('surfaces a load failure', async () => {
    ctx.registrar.session = null;
    const access = useAccessStore();
    await access.load();
    // 401 goes to the unauthorized hook (sign-in redirect), not the error banner.
    expect(access.error).toBeNull();
    ctx.registrar.signIn(I.ada);
    const grant = ctx.registrar.state.grants[0];
    if (grant) grant.role = 'root' as never;
    await access.load();
    expect(access.error).toMatch(/Unexpected answer/);
  });
});

describe('access store: groups', () => {
  it('loads groups with the grants, for admins only', async () => {
    const access = useAccessStore();
    await access.load();
    expect(access.groups).toEqual([
      expect.objectContaining({ id: I.nightShift, name: 'Night shift', memberIds: [I.bob] }),
    ]);
    ctx.registrar.signIn(I.bob);
    const auth = useAuthStore();
    auth.sessionExpired();
    await auth.signIn('bob@example.com', 'hunter2hunter2');
    const before = ctx.platform.requests.length;
    await access.load();
    expect(access.groups).toEqual([]);
    const asked = ctx.platform.requests.slice(before).map((r) => r.url);
    expect(asked.some((u) => u.includes('/api/groups'))).toBe(false);
  });

  it('creates, renames and deletes a group; a taken name is refused and surfaced', async () => {
    const access = useAccessStore();
    await access.load();
    const ops = await access.createGroup('  Ops ');
    expect(ops).toMatchObject({ name: 'Ops', memberIds: [], memberCount: 0 });
    expect(access.groups.map((g) => g.name)).toEqual(['Night shift', 'Ops']);
    await expect(access.createGroup('Ops')).rejects.toMatchObject({
      status: 409,
      code: 'CONFLICT',
      message: 'a group named "Ops" already exists',
    });
    await expect(access.createGroup('bad\u0000name')).rejects.toMatchObject({ status: 400 });
    await expect(access.renameGroup(ops.id, 'Night shift')).rejects.toMatchObject({
      status: 409,
    });
    expect(access.groups.map((g) => g.name)).toEqual(['Night shift', 'Ops']);
    await access.renameGroup(ops.id, 'Alpha');
    expect(access.groups.map((g) => g.name)).toEqual(['Alpha', 'Night shift']);
    await access.deleteGroup(ops.id);
    expect(access.groups.map((g) => g.name)).toEqual(['Night shift']);
    await expect(access.deleteGroup(ops.id)).rejects.toMatchObject({ status: 404 });
    expect(ctx.registrar.state.audit.slice(0, 3).map((e) => e.action)).toEqual([
      'group.delete',
      'group.rename',
      'group.create',
    ]);
  });

  it('adds and removes members; only people of the organisation', async () => {
    const access = useAccessStore();
    await access.load();
    const g = await access.createGroup('Crew');
    await access.addGroupMember(g.id, I.bob);
    await access.addGroupMember(g.id, I.bob);
    await access.addGroupMember(g.id, I.ada);
    expect(access.groups.find((x) => x.id === g.id)).toMatchObject({
      memberIds: [I.bob, I.ada],
      memberCount: 2,
    });
    await access.removeGroupMember(g.id, I.bob);
    expect(access.groups.find((x) => x.id === g.id)?.memberIds).toEqual([I.ada]);
    await expect(
      access.addGroupMember(g.id, '00000000-0000-4000-8000-0000000000ff'),
    ).rejects.toMatchObject({ status: 404, message: 'user not found' });
    expect(access.groups.find((x) => x.id === g.id)?.memberIds).toEqual([I.ada]);
    const audit = ctx.registrar.state.audit.map((e) => e.action);
    expect(audit.filter((a) => a === 'group.member_add')).toHaveLength(2);
    expect(audit.filter((a) => a === 'group.member_remove')).toHaveLength(1);
  });

  it('labels a group grant with the group name; deleting the group drops its grants', async () => {
    const access = useAccessStore();
    await access.load();
    const grant = await access.createGrant({
      subject: { kind: 'group', groupId: I.nightShift },
      target: { kind: 'device', deviceId: I.kiosk },
      role: 'operator',
    });
    expect(ctx.registrar.state.grants.at(-1)).toMatchObject({
      subjectType: 'group',
      groupId: I.nightShift,
      userId: null,
    });
    expect(access.subjectLabel(grant)).toBe('Night shift (group)');
    expect(access.grantsFor({ id: I.kiosk, tags: [] }).map((g) => g.id)).toEqual([grant.id]);
    await access.deleteGroup(I.nightShift);
    expect(access.grants.map((g) => g.id)).not.toContain(grant.id);
    expect(ctx.registrar.state.grants.map((g) => g.id)).not.toContain(grant.id);
    expect(access.subjectLabel(grant)).toBe(`group ${I.nightShift.slice(0, 8)}`);
    await expect(
      access.createGrant({
        subject: { kind: 'group', groupId: I.nightShift },
        target: { kind: 'tag', tag: 'camera' },
        role: 'viewer',
      }),
    ).rejects.toMatchObject({ status: 404, message: 'group not found' });
  });

  it('surfaces a malformed group list as a load error', async () => {
    const g = ctx.registrar.state.groups[0];
    if (g) g.name = 42 as never;
    const access = useAccessStore();
    await access.load();
    expect(access.error).toMatch(/Unexpected answer/);
  });
});

describe('access store and the session', () => {
  it('forgets people and grants on sign-out', async () => {
    const access = useAccessStore();
    await access.load();
    expect(access.users).toHaveLength(2);
    await useAuthStore().signOut();
    await nextTick();
    expect(access.users).toEqual([]);
    expect(access.grants).toEqual([]);
    expect(access.invites).toEqual([]);
    expect(access.groups).toEqual([]);
  });
});
