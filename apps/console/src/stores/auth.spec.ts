import { describe, expect, it } from 'vitest';
import { DEMO_IDS } from '../testing/fake-registrar.js';
import { setupTest } from '../testing/setup.js';
import { useAuthStore } from './auth.js';

const I = DEMO_IDS;

describe('auth store', () => {
  it('restores a missing session as signed-out, once', async () => {
    const ctx = setupTest();
    const auth = useAuthStore();
    expect(auth.status).toBe('unknown');
    await Promise.all([auth.restore(), auth.restore()]);
    expect(auth.status).toBe('signed-out');
    expect(ctx.platform.requests.filter((r) => r.url.endsWith('/auth/me'))).toHaveLength(1);
  });

  it('restores an existing session', async () => {
    setupTest({ signedIn: true });
    const auth = useAuthStore();
    await auth.restore();
    expect(auth.status).toBe('signed-in');
    expect(auth.currentOrg?.orgName).toBe('Acme Cameras');
  });

  it('signs in to the first org, signs out', async () => {
    setupTest();
    const auth = useAuthStore();
    expect(await auth.signIn('  ada@example.com ', 'correct horse')).toBe(true);
    expect(auth.status).toBe('signed-in');
    expect(auth.user?.name).toBe('Ada Lovelace');
    expect(auth.orgId).toBe(I.acme);
    expect(auth.canAdmin).toBe(true);
    await auth.signOut();
    expect(auth.status).toBe('signed-out');
    expect(auth.user).toBeNull();
    expect(auth.orgId).toBeNull();
  });

  it('shows a plain message for wrong credentials', async () => {
    setupTest();
    const auth = useAuthStore();
    expect(await auth.signIn('ada@example.com', 'wrong')).toBe(false);
    expect(auth.status).toBe('unknown');
    expect(auth.error).toBe('Email or password is wrong.');
  });

  it('switches organisation by signing in to it again', async () => {
    const ctx = setupTest({ signedIn: true });
    const auth = useAuthStore();
    await auth.restore();
    expect(await auth.switchOrg(I.lab, 'wrong')).toBe(false);
    expect(auth.orgId).toBe(I.acme);
    expect(await auth.switchOrg(I.lab, 'correct horse')).toBe(true);
    expect(auth.orgId).toBe(I.lab);
    expect(auth.role).toBe('admin');
    expect(ctx.registrar.session?.orgId).toBe(I.lab);
    expect(await auth.switchOrg('not-mine', 'correct horse')).toBe(false);
    expect(auth.error).toMatch(/not a member/);
  });

  it('members cannot administer', async () => {
    const ctx = setupTest();
    ctx.registrar.signIn(I.bob);
    const auth = useAuthStore();
    await auth.restore();
    expect(auth.role).toBe('member');
    expect(auth.canAdmin).toBe(false);
  });

  it('drops the session when it expires', async () => {
    setupTest({ signedIn: true });
    const auth = useAuthStore();
    await auth.restore();
    auth.sessionExpired();
    expect(auth.status).toBe('signed-out');
    expect(auth.error).toMatch(/session ended/);
  });
});
