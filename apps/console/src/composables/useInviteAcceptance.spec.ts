import { beforeEach, describe, expect, it } from 'vitest';
import { useAccessStore } from '../stores/access.js';
import { useAuthStore } from '../stores/auth.js';
import { DEMO_IDS } from '../testing/fake-registrar.js';
import { setupTest, type TestContext } from '../testing/setup.js';
import { useInviteAcceptance } from './useInviteAcceptance.js';

let ctx: TestContext;
beforeEach(async () => {
  ctx = setupTest({ signedIn: true });
  await useAuthStore().restore();
});

/** An admin's invitation, then a signed-out browser opening the link. */
async function invited(email: string, role: 'member' | 'admin' = 'member') {
  const { token } = await useAccessStore().invite({ email, role });
  await useAuthStore().signOut();
  const acceptance = ctx.app.runWithContext(() => useInviteAcceptance(`#${token}`));
  await acceptance.load();
  return acceptance;
}

describe('useInviteAcceptance', () => {
  it('a new person chooses a name and password, joins and is signed in', async () => {
    const a = await invited('eve@example.com');
    expect(a.status.value).toBe('ready');
    expect(a.preview.value).toMatchObject({
      orgName: 'Acme Cameras',
      email: 'eve@example.com',
      role: 'member',
      existingUser: false,
    });
    const form = { name: 'Eve', password: 'a long password', confirm: 'a long password' };
    expect(a.problem({ ...form, name: ' ' })).toBe('Enter your name.');
    expect(a.problem({ ...form, password: 'short', confirm: 'short' })).toMatch(/at least 12/);
    expect(a.problem({ ...form, confirm: 'a long passwort' })).toBe('The passwords do not match.');
    expect(a.problem(form)).toBeNull();
    expect(await a.accept(form)).toBe(true);
    expect(a.status.value).toBe('accepted');
    const auth = useAuthStore();
    expect(auth.status).toBe('signed-in');
    expect(auth.user?.email).toBe('eve@example.com');
    expect(auth.orgId).toBe(DEMO_IDS.acme);
    expect(auth.role).toBe('member');
  });

  it('an existing account proves its password; a wrong one leaves the invitation usable', async () => {
    // Bob is a member of Acme only; Ada (admin of Home lab) invites him there.
    const auth = useAuthStore();
    await auth.switchOrg(DEMO_IDS.lab, 'correct horse');
    const a = await invited('bob@example.com', 'admin');
    expect(a.isExisting.value).toBe(true);
    expect(a.problem({ name: '', password: '', confirm: '' })).toBe('Enter your password.');
    expect(await a.accept({ name: '', password: 'not his password', confirm: '' })).toBe(false);
    expect(a.status.value).toBe('ready');
    expect(a.error.value).toBe('That is not the password of bob@example.com.');
    expect(await a.accept({ name: '', password: 'hunter2hunter2', confirm: '' })).toBe(true);
    expect(auth.orgId).toBe(DEMO_IDS.lab);
    expect(auth.role).toBe('admin');
    expect(auth.memberships.map((m) => m.orgId).sort()).toEqual(
      [DEMO_IDS.acme, DEMO_IDS.lab].sort(),
    );
  });

  it('says clearly when a link is malformed, used, revoked or expired', async () => {
    const bad = ctx.app.runWithContext(() => useInviteAcceptance('#not-a-token'));
    await bad.load();
    expect(bad.status.value).toBe('invalid');
    expect(bad.error.value).toMatch(/no invitation code/);
    expect(ctx.platform.requests.some((r) => r.url.includes('/api/invites/preview'))).toBe(false);

    const a = await invited('eve@example.com');
    const form = { name: 'Eve', password: 'a long password', confirm: 'a long password' };
    expect(await a.accept(form)).toBe(true);
    await useAuthStore().signOut();
    const again = ctx.app.runWithContext(() => useInviteAcceptance(`#${a.token ?? ''}`));
    await again.load();
    expect(again.status.value).toBe('invalid');
    expect(again.error.value).toMatch(/expired, was revoked or has already been used/);

    const invite = ctx.registrar.state.invites[0];
    expect(invite?.acceptedBy).not.toBeNull();
  });
});
