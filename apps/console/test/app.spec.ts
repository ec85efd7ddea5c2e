// The whole console (real router, stores, views) against the fake registrar, mounted in
// happy-dom. Covers the guard, the 401 redirect and the main flows end to end.
import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTick, type App } from 'vue';
import { createMemoryHistory, type Router } from 'vue-router';
import { createConsoleApp } from '../src/bootstrap.js';
import { createTestPlatform, type TestPlatform } from '../src/platform/testing.js';
import { safeRedirect } from '../src/router/index.js';
import { ApiClient } from '../src/services/api.js';
import { MemoryPresenceSource } from '../src/services/presence.js';
import { DEMO_IDS, FakeRegistrar } from '../src/testing/fake-registrar.js';

const NOW = 1_750_000_000_000;
let app: App | null = null;

afterEach(() => {
  app?.unmount();
  app = null;
  document.body.innerHTML = '';
});

interface Harness {
  router: Router;
  registrar: FakeRegistrar;
  platform: TestPlatform;
  presence: MemoryPresenceSource;
  root: HTMLElement;
}

async function start(path: string, signedIn = false): Promise<Harness> {
  const registrar = FakeRegistrar.demo(NOW);
  if (signedIn) registrar.signIn(DEMO_IDS.ada);
  const platform = createTestPlatform(registrar.handle);
  platform.clock = NOW;
  const presence = new MemoryPresenceSource();
  const created = createConsoleApp(
    { platform, api: new ApiClient(platform.http), presence },
    createMemoryHistory(),
  );
  app = created.app;
  const root = document.createElement('div');
  document.body.append(root);
  await created.router.push(path);
  app.mount(root);
  await created.router.isReady();
  await settle();
  return { router: created.router, registrar, platform, presence, root };
}

async function settle() {
  for (let i = 0; i < 5; i++) {
    await flushPromises();
    await nextTick();
  }
}

function input(root: HTMLElement, label: string): HTMLInputElement {
  const l = [...root.querySelectorAll('label')].find((x) => x.textContent?.trim() === label);
  const el = l && document.getElementById(l.htmlFor);
  if (!(el instanceof HTMLInputElement)) throw new Error(`no input labelled ${label}`);
  return el;
}
function select(root: HTMLElement, label: string): HTMLSelectElement {
  const l = [...root.querySelectorAll('label')].find((x) => x.textContent?.trim() === label);
  const el = l && document.getElementById(l.htmlFor);
  if (!(el instanceof HTMLSelectElement)) throw new Error(`no select labelled ${label}`);
  return el;
}
function fill(el: HTMLInputElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('input'));
}
function button(root: ParentNode, text: string): HTMLButtonElement {
  const b = [...root.querySelectorAll('button')].find((x) => x.textContent?.trim() === text);
  if (!b) throw new Error(`no button ${text}`);
  return b;
}

describe('console app', () => {
  it('sends a signed-out visitor to sign-in and back where they were going', async () => {
    const h = await start('/audit');
    expect(h.router.currentRoute.value.name).toBe('sign-in');
    expect(h.router.currentRoute.value.query['redirect']).toBe('/audit');
    fill(input(h.root, 'Email'), 'ada@example.com');
    fill(input(h.root, 'Password'), 'correct horse');
    await nextTick();
    h.root.querySelector('form')?.dispatchEvent(new Event('submit'));
    // The destination view is a lazy chunk: wait for the navigation, not a fixed time.
    await vi.waitFor(() => expect(h.router.currentRoute.value.fullPath).toBe('/audit'));
    await settle();
    expect(h.root.querySelector('h1')?.textContent).toBe('Audit log');
    expect(document.documentElement.dataset['theme']).toBe('light');
    expect(document.title).toBe('Audit · peerfetch');
  });

  it('shows a wrong password as an alert and stays on sign-in', async () => {
    const h = await start('/sign-in');
    fill(input(h.root, 'Email'), 'ada@example.com');
    fill(input(h.root, 'Password'), 'nope');
    await nextTick();
    h.root.querySelector('form')?.dispatchEvent(new Event('submit'));
    await settle();
    expect(h.root.querySelector('[role="alert"]')?.textContent).toBe('Email or password is wrong.');
    expect(h.router.currentRoute.value.name).toBe('sign-in');
  });

  it('lists the fleet, filters it and follows presence', async () => {
    const h = await start('/fleet', true);
    const names = () => [...h.root.querySelectorAll('tbody a')].map((a) => a.textContent);
    expect(names()).toEqual([
      'gate-camera',
      'greenhouse-sensor',
      'kiosk-lobby',
      'loading-dock',
      'parking-cam-2',
    ]);
    expect(h.root.textContent).toContain('5 devices · 3 online');
    button(h.root, 'kiosk').click();
    await settle();
    expect(names()).toEqual(['kiosk-lobby']);
    const kioskRow = h.root.querySelector('tbody tr');
    expect(kioskRow?.textContent).toContain('Offline');
    h.presence.emit(DEMO_IDS.acme, { deviceId: DEMO_IDS.kiosk, status: 'online', ts: NOW });
    await settle();
    expect(h.root.querySelector('tbody tr')?.textContent).toContain('Online');
  });

  it('shows the empty state when the org has no devices', async () => {
    const registrarless = await start('/fleet', true);
    registrarless.registrar.state.devices = [];
    await registrarless.router.push('/settings');
    await registrarless.router.push('/fleet');
    await vi.waitFor(() => expect(registrarless.root.textContent).toContain('No devices yet'));
    expect(registrarless.root.textContent).toContain('Enroll your first device');
  });

  it('shows a device with Connect and its fingerprint in groups', async () => {
    const h = await start(`/devices/${DEMO_IDS.gate}`, true);
    expect(h.root.querySelector('h1')?.textContent).toBe('gate-camera');
    const connect = button(h.root, 'Connect');
    expect(connect.disabled).toBe(false);
    const note = document.getElementById(connect.getAttribute('aria-describedby') ?? '');
    expect(note?.textContent).toContain('end-to-end encrypted');
    const fp = h.root.querySelector('pre.fingerprint')?.textContent ?? '';
    expect(fp.split('\n')).toHaveLength(4);
    expect(fp.split('\n')[0]).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){3}$/);
    const health = [...h.root.querySelectorAll('section')].find(
      (el) => el.querySelector('h2')?.textContent === 'Health',
    );
    expect(health?.textContent).toContain('3 d 2 h');
    expect(health?.textContent).toContain('412 MB of 1.0 GB');
    expect(health?.textContent).toContain('51.5 °C');
  });

  it('Connect opens the session view, which reports a refused grant as a typed failure', async () => {
    const h = await start(`/devices/${DEMO_IDS.gate}`, true);
    button(h.root, 'Connect').click();
    await vi.waitFor(async () => {
      await settle();
      expect(h.router.currentRoute.value.name).toBe('device-session');
      expect(h.root.querySelector('[data-testid="session-state"]')?.textContent).toBe('Failed');
    }, 10_000);
    // the fake registrar has no /api/sessions: the grant request is what failed
    expect(h.platform.requests.some((r) => r.url.endsWith('/api/sessions'))).toBe(true);
    expect(h.root.querySelector('[role="alert"]')).not.toBeNull();
    expect(button(h.root, 'Reconnect').disabled).toBe(false);
  });

  it('creates a claim code and shows the commands once', async () => {
    const h = await start('/enroll', true);
    fill(input(h.root, 'Tags'), 'Site:North camera');
    await nextTick();
    h.root.querySelector('form')?.dispatchEvent(new Event('submit'));
    await settle();
    const code = h.registrar.state.claimCodes.at(-1)?.code ?? '';
    expect(code).toMatch(/^PFC-/);
    const pres = [...h.root.querySelectorAll('pre')].map((p) => p.textContent);
    expect(pres[0]).toContain(`-e CLAIM_CODE=${code}`);
    expect(pres[0]).toContain('-e REGISTRAR_URL=https://registrar.test');
    expect(pres[1]).toContain(`--code ${code}`);
    expect(h.root.querySelector('img[alt^="QR code"]')?.getAttribute('src')).toMatch(
      /^data:image\/svg\+xml/,
    );
    expect(h.registrar.state.claimCodes.at(-1)?.tags).toEqual(['site:north', 'camera']);
    // the device enrolls with the code and comes online: it appears live on this page
    const watch = () => h.root.querySelector('[data-testid="enroll-watch"]')?.textContent ?? '';
    expect(watch()).toContain('Waiting for the device');
    const gate = h.registrar.state.devices.find((d) => d.id === DEMO_IDS.gate);
    const newId = '0e0e0e0e-0000-4000-8000-0000000000aa';
    h.registrar.state.devices.push({
      ...(gate as NonNullable<typeof gate>),
      id: newId,
      name: 'north-gate-2',
      keyFingerprint: 'new-device-fingerprint',
    });
    h.presence.emit(DEMO_IDS.acme, { deviceId: newId, status: 'online', ts: NOW });
    await settle();
    expect(watch()).toContain('north-gate-2 enrolled');
    expect(watch()).toContain('Online');
    expect(watch()).not.toContain('gate-camera'); // already there before the code
    button(h.root, 'Done').click();
    await settle();
    expect(h.root.textContent).not.toContain(code);
  });

  it('changes a grant’s role and adds a person from the access page', async () => {
    const h = await start('/access', true);
    await vi.waitFor(() => expect(h.root.textContent).toContain('Bob Builder'));
    const roleSelect = h.root.querySelector<HTMLSelectElement>('tbody select');
    if (!roleSelect) throw new Error('no role select');
    roleSelect.value = 'operator';
    roleSelect.dispatchEvent(new Event('change'));
    await vi.waitFor(() => expect(h.registrar.state.grants[0]?.role).toBe('operator'));
    await settle();
    expect(document.body.textContent).toContain('Role changed to operator.');

    fill(input(h.root, 'Email'), 'eve@example.com');
    fill(input(h.root, 'Name'), 'Eve');
    fill(input(h.root, 'Initial password'), 'a long enough password');
    await nextTick();
    button(h.root, 'Add person').click();
    await vi.waitFor(() => expect(h.root.textContent).toContain('eve@example.com'));
    expect(h.registrar.state.users.at(-1)).toMatchObject({ email: 'eve@example.com', name: 'Eve' });
  });

  it('changes a person’s role and removes them from the access page (never yourself)', async () => {
    const h = await start('/access', true);
    await vi.waitFor(() => expect(h.root.textContent).toContain('Bob Builder'));
    // Ada (signed in, owner) cannot change or remove herself.
    expect(h.root.querySelector('[aria-label^="Remove Ada"]')).toBeNull();
    expect(() => select(h.root, 'Role of Ada Lovelace')).toThrow();
    const role = select(h.root, 'Role of Bob Builder');
    role.value = 'admin';
    role.dispatchEvent(new Event('change'));
    await vi.waitFor(() =>
      expect(h.registrar.state.memberships.find((m) => m.userId === DEMO_IDS.bob)?.role).toBe(
        'admin',
      ),
    );
    await settle();
    expect(document.body.textContent).toContain('Bob Builder is now an admin.');

    const remove = h.root.querySelector<HTMLButtonElement>(
      '[aria-label="Remove Bob Builder from the organisation"]',
    );
    if (!remove) throw new Error('no remove button');
    remove.click();
    await settle();
    const dialog = document.querySelector('[role="dialog"]');
    if (!dialog) throw new Error('no dialog');
    expect(dialog.textContent).toContain('their grant goes');
    button(dialog, 'Remove').click();
    await vi.waitFor(() =>
      expect(h.registrar.state.memberships.some((m) => m.userId === DEMO_IDS.bob)).toBe(false),
    );
    await settle();
    expect(h.registrar.state.grants.some((g) => g.userId === DEMO_IDS.bob)).toBe(false);
    expect(document.body.textContent).toContain('Bob Builder removed from the organisation.');
    expect(h.root.querySelector('table')?.textContent).not.toContain('Bob Builder');
  });

  it('manages a group and grants it access from the access page', async () => {
    const h = await start('/access', true);
    await vi.waitFor(() => expect(h.root.textContent).toContain('Night shift'));
    fill(input(h.root, 'New group name'), 'Gate crew');
    await nextTick();
    button(h.root, 'Create group').click();
    await vi.waitFor(() =>
      expect(h.registrar.state.groups.map((g) => g.name)).toContain('Gate crew'),
    );
    await settle();
    const crew = h.registrar.state.groups.find((g) => g.name === 'Gate crew');
    const add = select(h.root, 'Add a person to Gate crew');
    add.value = DEMO_IDS.bob;
    add.dispatchEvent(new Event('change'));
    await nextTick();
    const card = add.closest('li');
    if (!card) throw new Error('no group card');
    button(card, 'Add').click();
    await vi.waitFor(() => expect(crew?.memberIds).toEqual([DEMO_IDS.bob]));
    await settle();
    expect(card.querySelector('[aria-label="Remove Bob Builder from Gate crew"]')).not.toBeNull();

    // "Who" offers people and groups; a group grant is listed under the group's name.
    const who = select(h.root, 'Who');
    const groupOptions = [...who.querySelectorAll('optgroup[label="Groups"] option')];
    expect(groupOptions.map((o) => o.textContent?.trim())).toEqual(['Gate crew', 'Night shift']);
    who.value = `group:${crew?.id ?? ''}`;
    who.dispatchEvent(new Event('change'));
    const kind = select(h.root, 'Applies to');
    kind.value = 'device';
    kind.dispatchEvent(new Event('change'));
    await nextTick();
    const device = select(h.root, 'Device');
    device.value = DEMO_IDS.kiosk;
    device.dispatchEvent(new Event('change'));
    await nextTick();
    button(h.root, 'Grant access').click();
    await vi.waitFor(() =>
      expect(h.registrar.state.grants.at(-1)).toMatchObject({
        subjectType: 'group',
        groupId: crew?.id,
        deviceId: DEMO_IDS.kiosk,
      }),
    );
    await settle();
    expect(h.root.querySelector('table')?.textContent).toContain('Gate crew (group)');

    // Deleting the group asks first, then removes it and its grant.
    button(card, 'Delete').click();
    await settle();
    const dialog = document.querySelector('[role="dialog"]');
    expect(dialog?.textContent).toContain('with its grant');
    if (!dialog) throw new Error('no dialog');
    button(dialog, 'Delete group').click();
    await vi.waitFor(() =>
      expect(h.registrar.state.groups.map((g) => g.name)).toEqual(['Night shift']),
    );
    await settle();
    expect(h.registrar.state.grants.some((g) => g.groupId === crew?.id)).toBe(false);
    expect(h.root.querySelector('ul.groups')?.textContent).not.toContain('Gate crew');
    expect(h.root.querySelector('table')?.textContent).not.toContain('Gate crew');
  });

  it('redirects to sign-in when the session ends under a page', async () => {
    const h = await start('/fleet', true);
    h.registrar.session = null;
    await h.router.push('/access');
    // The 401 triggers a navigation to a lazy chunk: wait for it rather than a fixed time.
    await vi.waitFor(() => expect(h.router.currentRoute.value.name).toBe('sign-in'));
    await settle();
    expect(h.router.currentRoute.value.query['redirect']).toBe('/access');
    expect(h.root.querySelector('[role="alert"]')?.textContent).toMatch(/session ended/);
  });

  it('hides admin pages from members', async () => {
    const h = await start('/sign-in');
    h.registrar.signIn(DEMO_IDS.bob);
    await h.router.push('/fleet');
    await settle();
    // Bob's session was made behind the app's back: the guard has already decided.
    expect(h.router.currentRoute.value.name).toBe('sign-in');
    fill(input(h.root, 'Email'), 'bob@example.com');
    fill(input(h.root, 'Password'), 'hunter2hunter2');
    await nextTick();
    h.root.querySelector('form')?.dispatchEvent(new Event('submit'));
    await vi.waitFor(() => expect(h.router.currentRoute.value.name).toBe('fleet'));
    await settle();
    await vi.waitFor(() => expect(h.root.querySelectorAll('tbody tr')).toHaveLength(3));
    const nav = [...h.root.querySelectorAll('nav.sidebar a')].map((a) => a.textContent?.trim());
    expect(nav).toEqual(['Fleet', 'Access', 'Settings']);
    expect(h.root.querySelector('input[type="checkbox"]')).toBeNull();
  });
});

describe('safeRedirect', () => {
  it('accepts only same-app paths', () => {
    expect(safeRedirect('/devices/x?y=1')).toBe('/devices/x?y=1');
    expect(safeRedirect('//evil.example')).toBe('/fleet');
    expect(safeRedirect('https://evil.example')).toBe('/fleet');
    expect(safeRedirect(['/a'])).toBe('/fleet');
  });
});
