import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { setupTest, type TestContext } from '../testing/setup.js';
import { useAuthStore } from './auth.js';
import { parseTags, useEnrollmentStore } from './enrollment.js';

let ctx: TestContext;
beforeEach(async () => {
  ctx = setupTest({ signedIn: true });
  await useAuthStore().restore();
});

describe('enrollment store', () => {
  it('parses tags from commas and spaces', () => {
    expect(parseTags(' Site:North, camera  camera,,')).toEqual(['site:north', 'camera']);
  });

  it('creates a code, reveals it once with commands and a QR code', async () => {
    const store = useEnrollmentStore();
    await store.load();
    expect(store.active).toHaveLength(1);
    const created = await store.create({ ttlHours: 1, tags: 'lab, bench', label: '' });
    expect(created?.code).toMatch(/^PFC-/);
    const sent: unknown = await ctx.platform.requests.at(-1)?.json();
    expect(sent).toEqual({ ttlHours: 1, tags: ['lab', 'bench'] });
    expect(store.revealed?.code).toBe(created?.code);
    expect(store.commands?.docker).toContain(`CLAIM_CODE=${created?.code}`);
    expect(store.commands?.docker).toContain('REGISTRAR_URL=https://registrar.test');
    expect(store.commands?.node).toContain(`--code ${created?.code}`);
    expect(store.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // The listed copy never carries the secret.
    expect(store.codes.every((c) => !('code' in c))).toBe(true);
    expect(store.active).toHaveLength(2);
    store.dismiss();
    expect(store.revealed).toBeNull();
    expect(store.commands).toBeNull();
    expect(store.qrSvg).toBeNull();
  });

  it('passes a trimmed label, which also names the device in the commands', async () => {
    const store = useEnrollmentStore();
    await store.create({ ttlHours: 24, tags: '', label: ' cam-7 ' });
    expect(await ctx.platform.requests.at(-1)?.json()).toEqual({
      ttlHours: 24,
      tags: [],
      label: 'cam-7',
    });
    expect(store.commands?.docker).toContain('DEVICE_NAME=cam-7');
  });

  it('shows the registrar’s validation error and reveals nothing', async () => {
    const store = useEnrollmentStore();
    const created = await store.create({ ttlHours: 0, tags: '', label: '' });
    expect(created).toBeUndefined();
    expect(store.createError).toMatch(/ttlHours/);
    expect(store.revealed).toBeNull();
  });

  it('is refused for members', async () => {
    ctx.registrar.signIn(ctx.registrar.state.users[1]?.id ?? '');
    const store = useEnrollmentStore();
    await store.load();
    expect(store.error).toBe('insufficient role for this action');
  });

  it('revokes a code, hiding it from the active list and the reveal', async () => {
    const store = useEnrollmentStore();
    await store.load();
    const created = await store.create({ ttlHours: 1, tags: '', label: '' });
    await store.revoke(created?.id ?? '');
    expect(store.revealed).toBeNull();
    expect(store.codes.find((c) => c.id === created?.id)?.state).toBe('revoked');
    expect(store.active).toHaveLength(1);
  });

  it('treats expired codes as inactive', async () => {
    const store = useEnrollmentStore();
    await store.load();
    ctx.platform.clock += 21 * 3_600_000;
    expect(store.active).toHaveLength(0);
  });
});

describe('enrollment store and the session', () => {
  it('drops a revealed code on sign-out', async () => {
    const store = useEnrollmentStore();
    await store.create({ ttlHours: 1, tags: '', label: '' });
    expect(store.revealed).not.toBeNull();
    await useAuthStore().signOut();
    await nextTick();
    expect(store.revealed).toBeNull();
    expect(store.codes).toEqual([]);
  });
});
