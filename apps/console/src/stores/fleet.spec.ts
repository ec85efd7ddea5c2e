import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { DEMO_IDS } from '../testing/fake-registrar.js';
import { setupTest, type TestContext } from '../testing/setup.js';
import { useAuthStore } from './auth.js';
import { FLEET_PAGE, normalizeTag, useFleetStore } from './fleet.js';

let ctx: TestContext;
beforeEach(async () => {
  ctx = setupTest({ signedIn: true });
  await useAuthStore().restore();
});

const names = (fleet: ReturnType<typeof useFleetStore>) => fleet.visible.map((d) => d.name);
const GATE = DEMO_IDS.gate;
const KIOSK = DEMO_IDS.kiosk;

describe('fleet store', () => {
  it('loads the current org’s devices sorted by name', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    expect(fleet.loading).toBe(false);
    expect(fleet.error).toBeNull();
    expect(names(fleet)).toEqual([
      'gate-camera',
      'greenhouse-sensor',
      'kiosk-lobby',
      'loading-dock',
      'parking-cam-2',
    ]);
    expect(fleet.onlineCount).toBe(3);
    expect(fleet.allTags).toEqual(['camera', 'kiosk', 'sensor', 'site:north', 'site:south']);
  });

  it('filters by status, tags (all must match) and search', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    fleet.filters.status = 'offline';
    expect(names(fleet)).toEqual(['kiosk-lobby', 'parking-cam-2']);
    fleet.filters.status = 'all';
    fleet.toggleTagFilter('site:north');
    fleet.toggleTagFilter('camera');
    expect(names(fleet)).toEqual(['gate-camera', 'loading-dock', 'parking-cam-2']);
    fleet.filters.search = 'DOCK';
    expect(names(fleet)).toEqual(['loading-dock']);
    fleet.toggleTagFilter('site:north');
    fleet.toggleTagFilter('camera');
    fleet.filters.search = 'sensor';
    expect(names(fleet)).toEqual(['greenhouse-sensor']);
  });

  it('sorts by status and last seen, toggling direction', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    fleet.setSort('status');
    expect(fleet.visible.map((d) => d.status)).toEqual([
      'online',
      'online',
      'online',
      'offline',
      'offline',
    ]);
    fleet.setSort('lastSeen');
    expect(names(fleet)[0]).toBe('greenhouse-sensor');
    fleet.setSort('lastSeen');
    expect(names(fleet)[0]).toBe('parking-cam-2');
  });

  it('reports a load error and keeps the previous list', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    const first = ctx.registrar.state.devices[0];
    if (first) first.status = 'rebooting' as never;
    await fleet.load();
    expect(fleet.error).toMatch(
      /^Unexpected answer from the registrar \(devices.items\[0\].status/,
    );
    expect(fleet.devices).toHaveLength(5);
  });

  it('applies bulk tags and reports per-device failures', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    ctx.registrar.state.devices = ctx.registrar.state.devices.filter((d) => d.id !== KIOSK);
    const result = await fleet.bulkTag([GATE, KIOSK], ['Rack 4'], ['camera']);
    expect(result.updated).toBe(1);
    expect(result.failed).toEqual([{ deviceId: KIOSK, message: 'device not found' }]);
    expect(fleet.byId(GATE)?.tags).toEqual(['rack-4', 'site:north']);
    expect(ctx.registrar.state.devices.find((d) => d.id === GATE)?.tags).toEqual([
      'rack-4',
      'site:north',
    ]);
  });

  it('renames, retags, revokes and deletes a device', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    await fleet.rename(GATE, ' front-gate ');
    expect(fleet.byId(GATE)?.name).toBe('front-gate');
    await fleet.setTags(GATE, ['Outdoor', 'outdoor', ' ', 'Rack #4']);
    expect(fleet.byId(GATE)?.tags).toEqual(['outdoor', 'rack-4']);
    await fleet.revoke(GATE);
    expect(fleet.byId(GATE)?.revokedAt).not.toBeNull();
    fleet.filters.status = 'revoked';
    expect(names(fleet)).toEqual(['front-gate']);
    await fleet.remove(GATE);
    expect(fleet.byId(GATE)).toBeUndefined();
    await expect(fleet.rename(GATE, 'x')).rejects.toMatchObject({ status: 404 });
  });

  it('selects visible devices and toggles single ones', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    fleet.filters.status = 'online';
    fleet.selectVisible(true);
    expect(fleet.selected.size).toBe(3);
    fleet.toggleSelected(GATE);
    expect(fleet.selected.has(GATE)).toBe(false);
    fleet.selectVisible(false);
    expect(fleet.selected.size).toBe(0);
  });

  it('follows live presence for the current org, ignoring stale updates', async () => {
    const fleet = useFleetStore();
    await fleet.load();
    fleet.watchPresence();
    expect(ctx.presence.subscriberCount(DEMO_IDS.acme)).toBe(1);
    const before = fleet.byId(KIOSK)?.lastSeenAt ?? 0;
    ctx.presence.emit(DEMO_IDS.acme, { deviceId: KIOSK, status: 'online', ts: before + 1 });
    expect(fleet.byId(KIOSK)?.status).toBe('online');
    ctx.presence.emit(DEMO_IDS.acme, { deviceId: KIOSK, status: 'offline', ts: before - 1 });
    expect(fleet.byId(KIOSK)?.status).toBe('online');
    fleet.unwatchPresence();
    expect(ctx.presence.subscriberCount(DEMO_IDS.acme)).toBe(0);
    ctx.presence.emit(DEMO_IDS.acme, { deviceId: KIOSK, status: 'offline', ts: before + 2 });
    expect(fleet.byId(KIOSK)?.status).toBe('online');
  });

  it('loads the other org after a switch', async () => {
    const fleet = useFleetStore();
    await useAuthStore().switchOrg(DEMO_IDS.lab, 'correct horse');
    await fleet.load();
    expect(names(fleet)).toEqual(['pi-workbench']);
    expect(fleet.loadedOrg).toBe(DEMO_IDS.lab);
  });
});

describe('fleet store beyond the basics', () => {
  it('normalizes tags to the registrar rule', () => {
    expect(normalizeTag('  Site North ')).toBe('site-north');
    expect(normalizeTag('--Ünïcode!tag')).toBe('ncodetag');
    expect(normalizeTag('x'.repeat(80))).toHaveLength(63);
  });

  it('shows only granted devices to a member', async () => {
    ctx.registrar.signIn(DEMO_IDS.bob);
    const fleet = useFleetStore();
    await fleet.load();
    expect(names(fleet)).toEqual(['gate-camera', 'loading-dock', 'parking-cam-2']);
  });

  it('pages through fleets larger than one registrar page', async () => {
    const template = ctx.registrar.state.devices[0];
    if (!template) throw new Error('no demo device');
    for (let i = 0; i < FLEET_PAGE + 20; i++) {
      ctx.registrar.state.devices.push({
        ...template,
        id: `00000000-0000-4000-9000-${i.toString().padStart(12, '0')}`,
        name: `bulk-${i.toString().padStart(4, '0')}`,
      });
    }
    const fleet = useFleetStore();
    await fleet.load();
    expect(fleet.devices).toHaveLength(FLEET_PAGE + 25);
    expect(fleet.total).toBe(FLEET_PAGE + 25);
    const calls = ctx.platform.requests.filter((r) => new URL(r.url).pathname === '/api/devices');
    expect(calls.map((r) => new URL(r.url).searchParams.get('offset'))).toEqual([null, '500']);
  });
});

describe('fleet store and the session', () => {
  it('forgets the fleet when the user signs out or switches organisation', async () => {
    const fleet = useFleetStore();
    const auth = useAuthStore();
    await fleet.load();
    fleet.selectVisible(true);
    fleet.filters.search = 'gate';
    await auth.switchOrg(DEMO_IDS.lab, 'correct horse');
    await nextTick();
    expect(fleet.devices).toEqual([]);
    expect(fleet.selected.size).toBe(0);
    expect(fleet.filters.search).toBe('');
    await fleet.load();
    expect(fleet.devices).toHaveLength(1);
    await auth.signOut();
    await nextTick();
    expect(fleet.devices).toEqual([]);
    expect(fleet.loadedOrg).toBeNull();
  });
});
