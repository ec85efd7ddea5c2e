import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { DEMO_IDS } from '../testing/fake-registrar.js';
import { setupTest, type TestContext } from '../testing/setup.js';
import { AUDIT_ACTIONS, useAuditStore } from './audit.js';
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
    expect(audit.items.map((e) => e.id).slice(0, 2)).toEqual(['1000', '999']);
    expect(audit.hasPrev).toBe(false);
    expect(audit.hasNext).toBe(true);
    await audit.nextPage();
    expect(audit.page).toBe(1);
    expect(audit.items[0]?.id).toBe('980');
    expect(new URL(ctx.platform.requests.at(-1)?.url ?? '').searchParams.get('cursor')).toBe('981');
    await audit.nextPage();
    expect(audit.items.map((e) => e.id)).toEqual(['960', '959', '958', '957', '956']);
    expect(audit.hasNext).toBe(false);
    await audit.nextPage();
    expect(audit.page).toBe(2);
    await audit.prevPage();
    expect(audit.items[0]?.id).toBe('980');
    await audit.prevPage();
    expect(audit.items[0]?.id).toBe('1000');
  });

  it('keeps the last page when the next one turns out empty', async () => {
    ctx.registrar.state.audit = ctx.registrar.state.audit.slice(0, 40);
    const audit = useAuditStore();
    await audit.search();
    await audit.nextPage();
    expect(audit.hasNext).toBe(true); // exactly 20 came back: the registrar cannot know
    await audit.nextPage();
    expect(audit.page).toBe(1);
    expect(audit.items[0]?.id).toBe('980');
    expect(audit.hasNext).toBe(false);
  });

  it('sends only the filters that are set and restarts at page one', async () => {
    const audit = useAuditStore();
    await audit.search();
    await audit.nextPage();
    await audit.search({ action: 'grant.create', actorId: '', targetId: undefined, since: 0 });
    expect(audit.page).toBe(0);
    const url = new URL(ctx.platform.requests.at(-1)?.url ?? '');
    expect([...url.searchParams.keys()].sort()).toEqual(['action', 'limit', 'since']);
    expect(audit.items.every((e) => e.action === 'grant.create')).toBe(true);
    expect(audit.items).toHaveLength(11);
    expect(audit.hasNext).toBe(false);
  });

  it('filters by actor and target', async () => {
    const audit = useAuditStore();
    await audit.search({ actorId: DEMO_IDS.bob });
    expect(audit.items.length).toBeGreaterThan(0);
    expect(audit.items.every((e) => e.actorId === DEMO_IDS.bob)).toBe(true);
    await audit.search({ targetId: DEMO_IDS.gate });
    expect(audit.items.every((e) => e.targetId === DEMO_IDS.gate)).toBe(true);
  });

  it('reports a refusal', async () => {
    ctx.registrar.signIn(DEMO_IDS.bob);
    const audit = useAuditStore();
    await audit.search();
    expect(audit.error).toBe('insufficient role for this action');
  });
});

describe('audit store and the session', () => {
  it('forgets events on sign-out', async () => {
    const audit = useAuditStore();
    await audit.search();
    await audit.nextPage();
    await useAuthStore().signOut();
    await nextTick();
    expect(audit.items).toEqual([]);
    expect(audit.page).toBe(0);
    expect(audit.hasNext).toBe(false);
  });
});

describe('AUDIT_ACTIONS', () => {
  it('offers exactly the actions the registrar records (its AuditAction union)', () => {
    // Read as text: apps never import each other.
    const source = readFileSync(
      resolve(import.meta.dirname, '../../../registrar/src/audit/audit.types.ts'),
      'utf8',
    );
    const union = source.slice(source.indexOf('export type AuditAction'));
    const recorded = [...union.slice(0, union.indexOf(';')).matchAll(/'([a-z_.]+)'/g)].map(
      (m) => m[1],
    );
    expect(recorded.length).toBeGreaterThan(20);
    expect([...AUDIT_ACTIONS].sort()).toEqual(recorded.sort());
  });
});
