import { describe, expect, it } from 'vitest';
import { setupTest } from '../testing/setup.js';
import { ORG_STORAGE_KEY, useAuthStore } from './auth.js';

describe('auth store', () => {
  it('restores a missing session as signed-out, once', async () => {
    const ctx = setupTest();
    const auth = useAuthStore();
    expect(auth.status).toBe('unknown');
    await Promise.all([auth.restore(), auth.restore()]);
    expect(auth.status).toBe('signed-out');
    expect(ctx.platform.requests.filter((r) => r.url.endsWith('/auth/me'))).toHaveLength(1);
  });

  it('signs in, picks the first org, signs out', async () => {
    setupTest();
    const auth = useAuthStore();
    expect(await auth.signIn('  ada@example.com ', 'correct horse')).toBe(true);
    expect(auth.status).toBe('signed-in');
    expect(auth.user?.name).toBe('Ada Lovelace');
    expect(auth.orgId).toBe('org-acme');
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

  it('remembers the chosen org through the platform storage', async () => {
    const ctx = setupTest({ signedIn: true });
    const auth = useAuthStore();
    await auth.restore();
    auth.switchOrg('org-lab');
    expect(auth.currentOrg?.orgName).toBe('Home lab');
    expect(auth.canAdmin).toBe(true);
    expect(ctx.platform.storage.get(ORG_STORAGE_KEY)).toBe('org-lab');
    expect(() => auth.switchOrg('org-other')).toThrow(/not a member/);
  });

  it('starts in the stored org when it is still a membership', async () => {
    const ctx = setupTest({ signedIn: true });
    ctx.platform.storage.set(ORG_STORAGE_KEY, 'org-lab');
    const auth = useAuthStore();
    await auth.restore();
    expect(auth.orgId).toBe('org-lab');
  });

  it('ignores a stored org the user no longer belongs to', async () => {
    const ctx = setupTest({ signedIn: true });
    ctx.platform.storage.set(ORG_STORAGE_KEY, 'org-gone');
    const auth = useAuthStore();
    await auth.restore();
    expect(auth.orgId).toBe('org-acme');
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
