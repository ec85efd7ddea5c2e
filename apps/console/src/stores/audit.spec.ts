import { beforeEach, describe, expect, it } from 'vitest';
import { setupTest, type TestContext } from '../testing/setup.js';
import { useAuditStore } from './audit.js';
import { useAuthStore } from './auth.js';

let ctx: TestContext;
beforeEach(async () => {
  ctx = setupTest({ signedIn: true });
  await useAuthStore().restore();
});

describe('audit store', () => {
  it('pages forward and back through 45 events, 20 at a time', async () => {
    const audit = useAuditStore();
    await audit.search();
    expect(audit.items.map((e) => e.id).slice(0, 2)).toEqual(['a-1', 'a-2']);
    expect(audit.hasPrev).toBe(false);
    expect(audit.hasNext).toBe(true);
    await audit.nextPage();
    expect(audit.page).toBe(1);
    expect(audit.items[0]?.id).toBe('a-21');
    await audit.nextPage();
    expect(audit.items.map((e) => e.id)).toEqual(['a-41', 'a-42', 'a-43', 'a-44', 'a-45']);
    expect(audit.hasNext).toBe(false);
    await audit.nextPage();
    expect(audit.page).toBe(2);
    await audit.prevPage();
    expect(audit.items[0]?.id).toBe('a-21');
    await audit.prevPage();
    expect(audit.items[0]?.id).toBe('a-1');
  });

  it('sends only the filters that are set and restarts at page one', async () => {
    const audit = useAuditStore();
    await audit.search();
    await audit.nextPage();
    await audit.search({ action: 'session', actorId: '', deviceId: undefined });
    expect(audit.page).toBe(0);
    const url = new URL(ctx.platform.requests.at(-1)?.url ?? '');
    expect([...url.searchParams.keys()].sort()).toEqual(['action', 'limit']);
    expect(audit.items.every((e) => e.action === 'session.request')).toBe(true);
    expect(audit.items).toHaveLength(11);
    expect(audit.hasNext).toBe(false);
  });

  it('reports an error', async () => {
    ctx.registrar.state.members['org-acme'] = [];
    const audit = useAuditStore();
    await audit.search();
    expect(audit.error).toBe('Not a member of this org');
  });
});
