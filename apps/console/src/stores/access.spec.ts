import { beforeEach, describe, expect, it } from 'vitest';
import { setupTest, type TestContext } from '../testing/setup.js';
import { useAccessStore } from './access.js';
import { useAuthStore } from './auth.js';

let ctx: TestContext;
beforeEach(async () => {
  ctx = setupTest({ signedIn: true });
  await useAuthStore().restore();
});

describe('access store', () => {
  it('loads grants, members and invites together', async () => {
    const access = useAccessStore();
    await access.load();
    expect(access.grants.map((g) => g.id)).toEqual(['g-1']);
    expect(access.members).toHaveLength(2);
    expect(access.invites).toEqual([]);
    expect(access.memberLabel('u-bob')).toBe('Bob Builder');
    expect(access.memberLabel('u-unknown')).toBe('u-unknown');
  });

  it('finds the grants that apply to a device directly or by tag', async () => {
    const access = useAccessStore();
    await access.load();
    const direct = await access.createGrant({
      userId: 'u-bob',
      target: { kind: 'device', deviceId: 'd-9' },
      role: 'operator',
      expiresAt: null,
    });
    expect(access.grantsFor({ id: 'd-9', tags: ['site:north'] }).map((g) => g.id)).toEqual([
      'g-1',
      direct.id,
    ]);
    expect(access.grantsFor({ id: 'd-8', tags: [] })).toEqual([]);
  });

  it('updates and deletes grants', async () => {
    const access = useAccessStore();
    await access.load();
    await access.updateGrant('g-1', { role: 'operator' });
    expect(access.grants[0]?.role).toBe('operator');
    await access.deleteGrant('g-1');
    expect(access.grants).toEqual([]);
    expect(ctx.registrar.state.grants).toEqual([]);
  });

  it('rejects a grant for a non-member and keeps the list', async () => {
    const access = useAccessStore();
    await access.load();
    await expect(
      access.createGrant({
        userId: 'u-x',
        target: { kind: 'tag', tag: 't' },
        role: 'viewer',
        expiresAt: null,
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(access.grants).toHaveLength(1);
  });

  it('invites and revokes', async () => {
    const access = useAccessStore();
    await access.load();
    const invite = await access.invite({ email: ' eve@example.com ', role: 'member' });
    expect(invite.email).toBe('eve@example.com');
    expect(access.invites).toHaveLength(1);
    await access.revokeInvite(invite.id);
    expect(access.invites).toHaveLength(0);
  });

  it('surfaces a load failure', async () => {
    ctx.registrar.state.members['org-acme'] = [];
    const access = useAccessStore();
    await access.load();
    expect(access.error).toBe('Not a member of this org');
  });
});
