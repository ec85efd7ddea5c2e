// The console against the REAL system in Debian Chromium: the registrar process (fresh
// PostgreSQL database, embedded broker) serves the built console, the edge-agent process
// enrolls with a claim code and stays online over MQTT. Through the UI: sign in → the device
// is online in the fleet → Connect (verified) → the demo API's JSON → a clip plays and a seek
// to the middle plays from there → a download's SHA-256 matches; a viewer cannot POST; a
// user without a grant cannot connect; an invitation link made in the UI is accepted on a
// phone; on a phone a dialog stays clear of toasts. Desktop and 390×844. Screenshots go to
// artifacts/screenshots/system-*.png (gitignored). Runs inside the loopback-only namespace.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CLIP, SAMPLE_THUMB } from '../../../edge-agent/src/demo/sample-clips.js';
import { writeSyntheticFile } from '../../../edge-agent/src/demo/synthetic.js';
import { startDemoUpstream } from '../../../edge-agent/src/demo/upstream.js';
import { buildAgent } from '../../../edge-agent/test/support/build.js';
import {
  ADMIN,
  type AgentProcess,
  Api,
  type RegistrarProcess,
  type TestDatabase,
  createDatabase,
  startAgent,
  startRegistrar,
  waitFor,
} from '../../../edge-agent/test/system/harness.js';
import {
  expectPlays,
  expectPlaysFrom,
  launchChromium,
  openPage,
  type Viewport,
  VIEWPORTS,
} from './chromium.js';

const root = resolve(import.meta.dirname, '../..');
const shots = resolve(root, 'artifacts/screenshots');
const DEVICE = 'cam-e2e';
const LARGE = 'recording-large.bin';
const LARGE_SIZE = 5 * 1024 * 1024 + 77;
const VIEWER = { email: 'viewer@e2e.test', password: 'viewer-e2e-Passw0rd!' };
const NOBODY = { email: 'nogrant@e2e.test', password: 'nogrant-e2e-Passw0rd!' };

let work: string;
let db: TestDatabase;
let registrar: RegistrarProcess;
let agent: AgentProcess;
let second: AgentProcess | undefined;
let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
let browser: Browser;
let deviceId: string;
let largeSha: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'console-system-'));
  const clips = join(work, 'clips');
  await mkdir(clips);
  await copyFile(SAMPLE_CLIP, join(clips, 'front-door.mp4'));
  await copyFile(SAMPLE_THUMB, join(clips, 'front-door.jpg'));
  largeSha = await writeSyntheticFile(join(clips, LARGE), LARGE_SIZE, 5);
  // the console as `npm start` serves it: built, from the registrar's CONSOLE_DIR
  const site = join(work, 'site');
  const env = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({ root, logLevel: 'warn', build: { outDir: site, emptyOutDir: true } });
  } finally {
    process.env['NODE_ENV'] = env;
  }
  db = await createDatabase();
  registrar = await startRegistrar(db.url, join(work, 'registrar'), { CONSOLE_DIR: site });
  const api = await new Api(registrar.url).login();
  upstream = await startDemoUpstream({ name: DEVICE, port: 0 });
  const claim = await api.call('POST', '/api/claim-codes', { label: DEVICE, ttlHours: 1 });
  expect(claim.status).toBe(201);
  agent = startAgent(buildAgent(), {
    REGISTRAR_URL: registrar.url,
    CLAIM_CODE: String(claim.body['code']),
    DEVICE_NAME: DEVICE,
    DATA_DIR: join(work, 'agent'),
    CLIPS_DIR: clips,
    UPSTREAM_ORIGINS: upstream.url,
    ICE_BIND_ADDRESS: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const device = await waitFor('device enrolled and online', async () =>
    (await api.devices()).find((d) => d.name === DEVICE && d.status === 'online'),
  );
  deviceId = device.id;
  for (const user of [VIEWER, NOBODY]) {
    const r = await api.call('POST', '/api/users', { ...user, name: user.email, role: 'member' });
    expect(r.status).toBe(201);
    if (user === VIEWER) {
      const g = await api.call('POST', '/api/grants', {
        userId: String(r.body['id']),
        deviceId,
        role: 'viewer',
      });
      expect(g.status).toBe(201);
    }
  }
  await mkdir(shots, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  agent?.child.kill('SIGKILL');
  second?.child.kill('SIGKILL');
  await registrar?.stop('SIGKILL');
  await upstream?.close();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
  // the registrar's output helps when something above failed
  if (registrar && process.env['E2E_DEBUG']) console.log(registrar.output());
});

async function signIn(viewport: Viewport, user: { email: string; password: string }) {
  const { context, page, errors } = await openPage(browser, viewport);
  await page.goto(`${registrar.url}/`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return { context, page, errors };
}

const state = (page: Page) => page.getByTestId('session-state');

describe.each(VIEWPORTS)('the real system at $name', (viewport) => {
  it('sign in → device online → connect (verified) → API → clip plays and seeks → download', async () => {
    const { context, page, errors } = await signIn(viewport, ADMIN);
    try {
      const link = page.getByRole('link', { name: DEVICE, exact: true });
      await link.waitFor({ timeout: 20_000 });
      await expect
        .poll(() => page.getByText('Online').count(), { timeout: 20_000 })
        .toBeGreaterThan(0);
      await page.screenshot({ path: join(shots, `system-fleet-${viewport.name}.png`) });
      await link.click();
      await page.getByRole('button', { name: 'Connect' }).click();
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Verified');

      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.getByTestId('response-status').textContent()).toMatch(/^\s*200/);
      const body: unknown = JSON.parse(
        (await page.getByTestId('response-body').textContent()) ?? '',
      );
      expect(body).toMatchObject({ message: `hello from ${DEVICE}` });

      await page.getByRole('tab', { name: 'Clips' }).click();
      await page.getByRole('button', { name: 'Play front-door.mp4' }).click();
      const video = page.getByTestId('player');
      await video.waitFor();
      await expectPlays(video);
      const middle = (await video.evaluate((v: HTMLVideoElement) => v.duration)) / 2;
      await expectPlaysFrom(video, middle);
      await video.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(shots, `system-clips-${viewport.name}.png`) });

      await page.getByRole('button', { name: `Download ${LARGE}` }).click();
      await expect
        .poll(() => page.getByTestId('download-sha256').textContent(), { timeout: 30_000 })
        .toBe(largeSha);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('roles against the real registrar and agent', () => {
  it('a viewer connects and reads, but cannot POST', async () => {
    const { context, page, errors } = await signIn(VIEWPORTS[1], VIEWER);
    try {
      await page.getByRole('link', { name: DEVICE, exact: true }).click({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Connect' }).click();
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Verified');
      const select = page.getByLabel('Method');
      expect(await select.locator('option[value="POST"]').isDisabled()).toBe(true);
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.getByTestId('response-status').textContent()).toMatch(/^\s*200/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a user without a grant does not see the device and cannot connect to it', async () => {
    const { context, page } = await signIn(VIEWPORTS[0], NOBODY);
    try {
      await page
        .getByRole('heading', { name: /fleet|devices/i })
        .first()
        .waitFor();
      expect(await page.getByRole('link', { name: DEVICE, exact: true }).count()).toBe(0);
      // even with the device's address typed in
      await page.goto(`${registrar.url}/devices/${deviceId}/session?connect=1`);
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Failed');
      // the registrar refuses the session (and does not tell whether the device exists)
      expect(await page.getByRole('alert').textContent()).toContain('device not found');
      await page.screenshot({ path: join(shots, 'system-no-grant-desktop.png') });
    } finally {
      await context.close();
    }
  });

  it('enroll: a claim code made in the UI enrolls a second agent, which appears live', async () => {
    const { context, page, errors } = await signIn(VIEWPORTS[1], ADMIN);
    try {
      await page.getByRole('link', { name: DEVICE, exact: true }).waitFor({ timeout: 20_000 });
      await page.goto(`${registrar.url}/enroll`);
      await page.getByLabel('Device name').fill('cam-e2e-2');
      await page.getByRole('button', { name: 'Create claim code' }).click();
      const code = ((await page.locator('.code-value code').textContent()) ?? '').trim();
      expect(code).not.toBe('');
      const watch = page.getByTestId('enroll-watch');
      expect(await watch.textContent()).toContain('Waiting for the device');
      second = startAgent(buildAgent(), {
        REGISTRAR_URL: registrar.url,
        CLAIM_CODE: code,
        DEVICE_NAME: 'cam-e2e-2',
        DATA_DIR: join(work, 'agent-2'),
        CLIPS_DIR: join(work, 'clips'),
        UPSTREAM_ORIGINS: upstream.url,
        ICE_BIND_ADDRESS: '127.0.0.1',
        LOG_LEVEL: 'warn',
      });
      await expect
        .poll(() => watch.textContent(), { timeout: 30_000 })
        .toContain('cam-e2e-2 enrolled');
      expect(await watch.textContent()).toContain('Online');
      await page.screenshot({ path: join(shots, 'system-enrolled-phone.png') });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('invite: an admin creates a link in the UI; a new person accepts it on a phone and is in', async () => {
    const admin = await signIn(VIEWPORTS[0], ADMIN);
    let link = '';
    try {
      await admin.page
        .getByRole('link', { name: DEVICE, exact: true })
        .waitFor({ timeout: 20_000 });
      await admin.page.goto(`${registrar.url}/access`);
      await admin.page.getByLabel('Email to invite').fill('invitee@e2e.test');
      await admin.page.getByRole('button', { name: 'Create invitation' }).click();
      const shown = admin.page.getByTestId('invite-link');
      link = ((await shown.locator('code').textContent()) ?? '').trim();
      expect(link).toMatch(new RegExp(`^${registrar.url}/invite#[A-Za-z0-9_-]{43}$`));
      const pending = admin.page.getByRole('table', { name: 'Pending invitations' });
      await expect.poll(() => pending.textContent()).toContain('invitee@e2e.test');
      await shown.scrollIntoViewIfNeeded();
      await admin.page.screenshot({ path: join(shots, 'system-invite-desktop.png') });
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
    }

    // A different browser, signed out, on a phone.
    const { context, page, errors } = await openPage(browser, VIEWPORTS[1]);
    try {
      await page.goto(link);
      await expect
        .poll(() => page.getByTestId('invite-summary').textContent(), { timeout: 20_000 })
        .toContain('invitee@e2e.test');
      // the token leaves the address bar once read
      expect(page.url()).toBe(`${registrar.url}/invite`);
      await page.getByLabel('Your name').fill('Invited Person');
      await page.getByLabel('Choose a password').fill('invitee-e2e-Passw0rd!');
      await page.getByLabel('Repeat the password').fill('invitee-e2e-Passw0rd!');
      await page.screenshot({ path: join(shots, 'system-invite-accept-phone.png') });
      await page.getByRole('button', { name: 'Create account and join' }).click();
      await page.waitForURL(`${registrar.url}/fleet`, { timeout: 20_000 });
      // a member without grants: in, but no device to see
      await page
        .getByRole('heading', { name: /fleet|devices/i })
        .first()
        .waitFor();
      expect(await page.getByRole('link', { name: DEVICE, exact: true }).count()).toBe(0);
      expect(errors).toEqual([]);

      // the link worked once
      await page.goto(link);
      await expect
        .poll(() => page.getByRole('alert').textContent(), { timeout: 20_000 })
        .toMatch(/expired, was revoked or has already been used/);
    } finally {
      await context.close();
    }
    // and the registrar agrees: a member now, the invitation accepted, both audited
    const api = await new Api(registrar.url).login();
    const users = await api.call('GET', '/api/users');
    expect(JSON.stringify(users.body)).toContain('invitee@e2e.test');
    const audit = await api.call('GET', '/api/audit?action=invite.accept');
    expect(JSON.stringify(audit.body)).toContain('invitee@e2e.test');
  });

  it('phone: a dialog opened while a toast shows keeps its buttons clear of it', async () => {
    const { context, page, errors } = await signIn(VIEWPORTS[1], ADMIN);
    try {
      await page.getByRole('link', { name: DEVICE, exact: true }).waitFor({ timeout: 20_000 });
      await page.goto(`${registrar.url}/access`);
      await page.getByLabel('New group name').fill('Night shift');
      await page.getByRole('button', { name: 'Create group' }).click();
      const toast = page.getByRole('status').filter({ hasText: 'Group created.' });
      await toast.waitFor();
      await page.getByRole('button', { name: 'Delete Night shift' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete Night shift?' });
      await dialog.waitFor();
      await expect.poll(() => toast.isVisible()).toBe(true);
      await page.screenshot({ path: join(shots, 'system-dialog-toast-phone.png') });
      const a = await dialog.boundingBox();
      const b = await toast.boundingBox();
      if (!a || !b) throw new Error('dialog or toast not laid out');
      const overlaps =
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      expect(overlaps, `dialog ${JSON.stringify(a)} vs toast ${JSON.stringify(b)}`).toBe(false);
      await dialog.getByRole('button', { name: 'Delete group' }).click();
      await page.getByRole('status').filter({ hasText: 'Group Night shift deleted.' }).waitFor();
      expect(await page.getByRole('button', { name: 'Delete Night shift' }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('presence is live: the agent going away turns the device Offline in the open fleet', async () => {
    const { context, page } = await signIn(VIEWPORTS[0], ADMIN);
    try {
      const row = page
        .getByRole('row')
        .filter({ has: page.getByRole('link', { name: DEVICE, exact: true }) });
      await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain('Online');
      agent.child.kill('SIGTERM'); // graceful: it publishes "offline" before it exits
      // pushed over the registrar's WebSocket: no reload, no polling
      await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('Offline');
      await page.screenshot({ path: join(shots, 'system-fleet-offline-desktop.png') });
    } finally {
      await context.close();
    }
  });
});
