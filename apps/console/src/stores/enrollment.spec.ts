import { beforeEach, describe, expect, it } from 'vitest';
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
    const created = await store.create({ expiresInSeconds: 3600, tags: 'lab, bench', name: '' });
    expect(created?.code).toMatch(/^PFC-/);
    const sent: unknown = await ctx.platform.requests.at(-1)?.json();
    expect(sent).toEqual({ expiresInSeconds: 3600, tags: ['lab', 'bench'] });
    expect(store.revealed?.code).toBe(created?.code);
    expect(store.commands?.docker).toContain(`PEERFETCH_CLAIM_CODE=${created?.code}`);
    expect(store.commands?.docker).toContain('PEERFETCH_REGISTRAR_URL=https://registrar.test');
    expect(store.commands?.node).toContain(`--claim-code ${created?.code}`);
    expect(store.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // The listed copy never carries the secret.
    expect(store.codes.every((c) => !('code' in c))).toBe(true);
    expect(store.active).toHaveLength(2);
    store.dismiss();
    expect(store.revealed).toBeNull();
    expect(store.commands).toBeNull();
    expect(store.qrSvg).toBeNull();
  });

  it('passes a trimmed name only when given', async () => {
    const store = useEnrollmentStore();
    await store.create({ expiresInSeconds: 900, tags: '', name: ' cam-7 ' });
    expect(await ctx.platform.requests.at(-1)?.json()).toEqual({
      expiresInSeconds: 900,
      tags: [],
      name: 'cam-7',
    });
  });

  it('shows the registrar’s validation error and reveals nothing', async () => {
    const store = useEnrollmentStore();
    const created = await store.create({ expiresInSeconds: 10, tags: '', name: '' });
    expect(created).toBeUndefined();
    expect(store.createError).toMatch(/expiresInSeconds/);
    expect(store.revealed).toBeNull();
  });

  it('revokes a code, hiding it from the active list and the reveal', async () => {
    const store = useEnrollmentStore();
    await store.load();
    const created = await store.create({ expiresInSeconds: 3600, tags: '', name: '' });
    await store.revoke(created?.id ?? '');
    expect(store.revealed).toBeNull();
    expect(store.active.map((c) => c.id)).toEqual(['cc-1']);
    expect(
      ctx.registrar.state.claimCodes.find((c) => c.id === created?.id)?.revokedAt,
    ).not.toBeNull();
  });

  it('treats expired codes as inactive', async () => {
    const store = useEnrollmentStore();
    await store.load();
    ctx.platform.clock += 21 * 3_600_000;
    expect(store.active).toHaveLength(0);
  });
});
