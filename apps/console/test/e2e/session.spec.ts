// Device session end to end in Debian Chromium: the built console connects to a REAL
// edge-agent answerer over a real DataChannel (handshake verified), calls the demo API,
// plays a clip through the media service worker (then seeks to the middle), downloads a
// larger file with a matching SHA-256, reconnects; a viewer cannot POST. At 1280×800 and
// 390×844; screenshots go to artifacts/screenshots/ (gitignored).
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateKeyPair, keyFingerprint } from '@peerfetch/crypto';
import nodeDataChannel from 'node-datachannel';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticFile } from '../../../edge-agent/src/demo/synthetic.js';
import { SAMPLE_CLIP, SAMPLE_THUMB } from '../../../edge-agent/src/demo/sample-clips.js';
import { DEMO_IDS } from '../../src/testing/fake-registrar.js';
import {
  expectPlays,
  expectPlaysFrom,
  launchChromium,
  openPage,
  type Viewport,
  VIEWPORTS,
} from './chromium.js';
import { DEVICE_ID, type Harness, startHarness } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
const shots = resolve(root, 'artifacts/screenshots');
const distDir = resolve(root, 'artifacts/e2e-dist');
const LARGE = 'recording-large.bin';
const LONG = 'long-drive.mp4';
let longSize = 0;
const LARGE_SIZE = 6 * 1024 * 1024 + 321;

const devicePair = generateKeyPair();
let harness: Harness;
let browser: Browser;
let largeSha: string;

beforeAll(async () => {
  const clipsDir = await mkdtemp(join(tmpdir(), 'console-e2e-clips-'));
  await copyFile(SAMPLE_CLIP, join(clipsDir, 'front-door.mp4'));
  await copyFile(SAMPLE_THUMB, join(clipsDir, 'front-door.jpg'));
  largeSha = await writeSyntheticFile(join(clipsDir, LARGE), LARGE_SIZE, 7);
  // a 20 s, ~8 MB H.264 clip (ffmpeg, Debian package; the test fails if it is missing)
  execFileSync('ffmpeg', [
    ...['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'],
    ...['-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '8', '-g', '25'],
    ...['-pix_fmt', 'yuv420p', '-movflags', '+faststart', join(clipsDir, LONG)],
  ]);
  longSize = (await stat(join(clipsDir, LONG))).size;
  // vitest sets NODE_ENV=test, which would make Vite build a development bundle
  const env = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    // its own output dir: `nx run-many -t test build` may run the real build meanwhile
    await build({ root, logLevel: 'warn', build: { outDir: distDir, emptyOutDir: true } });
    await build({
      root,
      logLevel: 'warn',
      configFile: join(root, 'vite.standalone.config.ts'),
      build: { outDir: distDir, emptyOutDir: false },
    });
  } finally {
    process.env['NODE_ENV'] = env;
  }
  harness = await startHarness({
    distDir,
    clipsDir,
    registrarKey: generateKeyPair(),
    devicePair,
    // ≈ 2.5× the clip's bitrate: the whole file takes seconds to arrive
    paced: { [LONG]: 1_000_000 },
  });
  await mkdir(shots, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await new Promise((r) => setTimeout(r, 100));
  nodeDataChannel.cleanup();
});

async function open(viewport: Viewport, userId: string) {
  harness.registrar.signIn(userId);
  const { context, page, errors } = await openPage(browser, viewport);
  await page.goto(`${harness.url}/devices/${DEVICE_ID}/session?connect=1`);
  return { context, page, errors };
}

const state = (page: Page) => page.getByTestId('session-state');

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

describe.each(VIEWPORTS)('device session at $name', (viewport) => {
  it('connects verified, calls the API, plays and seeks a clip, downloads, reconnects', async () => {
    const { context, page, errors } = await open(viewport, DEMO_IDS.ada);
    try {
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Verified');
      // Chromium on loopback does not signal its own candidates: the pair may be prflx
      await expect
        .poll(() => page.getByTestId('session-path').textContent())
        .toMatch(/^direct \((host|prflx)\)$/);
      const fp = (await page.getByTestId('device-fingerprint').innerText()).replace(/\s+/g, ' ');
      expect(fp.trim()).toBe(keyFingerprint(devicePair.publicKey).display);
      await expect.poll(() => page.getByTestId('session-rtt').textContent()).toMatch(/ms$/);
      await shot(page, `session-status-${viewport.name}`);

      // API explorer → the demo upstream's JSON through the agent's proxy
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.getByTestId('response-status').textContent()).toMatch(/^\s*200/);
      const body: unknown = JSON.parse(
        (await page.getByTestId('response-body').textContent()) ?? '',
      );
      expect(body).toMatchObject({ message: 'hello from gate-camera', device: 'gate-camera' });
      await page.getByTestId('response-body').scrollIntoViewIfNeeded();
      await shot(page, `session-api-${viewport.name}`);

      // clips: list with thumbnail, play through the service worker, seek to the middle
      await page.getByRole('tab', { name: 'Clips' }).click();
      await page.getByRole('button', { name: 'Play front-door.mp4' }).click();
      const video = page.getByTestId('player');
      await video.waitFor();
      await expectPlays(video);
      const duration = await video.evaluate((v: HTMLVideoElement) => v.duration);
      expect(duration).toBeGreaterThan(4);
      const middle = duration / 2;
      await expectPlaysFrom(video, middle);
      const clipAudits = harness.audits.filter((a) => a.path === '/_agent/clips/front-door.mp4');
      expect(clipAudits.some((a) => a.status === 206)).toBe(true);
      expect(
        harness.audits.some((a) => a.path === '/_agent/clips/front-door.jpg' && a.status === 200),
      ).toBe(true);
      await video.scrollIntoViewIfNeeded();
      await shot(page, `session-clips-${viewport.name}`);

      // a longer clip, paced: playback starts before the file has arrived, and seeking to
      // the middle issues a new Range request answered with 206 from there
      const longPath = `/_agent/clips/${LONG}`;
      const requests = () => harness.clipRequests.filter((r) => r.path === longPath);
      const before = requests().length;
      await page.getByRole('button', { name: `Play ${LONG}` }).click();
      await expect
        .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentSrc), { timeout: 10_000 })
        .toContain(LONG);
      await expectPlays(video);
      const deliveredAtStart = requests()
        .slice(before)
        .reduce((n, r) => n + r.delivered, 0);
      expect(deliveredAtStart).toBeGreaterThan(0);
      expect(deliveredAtStart).toBeLessThan(longSize);
      const longMiddle = (await video.evaluate((v: HTMLVideoElement) => v.duration)) / 2;
      await expectPlaysFrom(video, longMiddle);
      const seeks = requests()
        .slice(before)
        .filter((r) => r.status === 206 && !/^bytes=0-/.test(r.range ?? ''));
      expect(seeks.length).toBeGreaterThan(0);

      // download with progress and a SHA-256 computed while streaming
      await page.getByRole('button', { name: `Download ${LARGE}` }).click();
      await expect
        .poll(() => page.getByTestId('download-sha256').textContent(), { timeout: 30_000 })
        .toBe(largeSha);
      await page.getByTestId('download-sha256').scrollIntoViewIfNeeded();
      await shot(page, `session-download-${viewport.name}`);

      // disconnect and reconnect cleanly
      await page.getByRole('button', { name: 'Disconnect' }).click();
      await expect.poll(() => state(page).textContent()).toBe('Disconnected');
      await page.getByRole('button', { name: 'Reconnect' }).click();
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Verified');
      expect(await page.getByText('Matches the key pinned').count()).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('changed device key', () => {
  it('warns loudly, refuses to connect, and connects only after an explicit re-pin', async () => {
    harness.registrar.signIn(DEMO_IDS.ada);
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    const stale = Buffer.from(generateKeyPair().publicKey).toString('base64url');
    await context.addInitScript(({ key, value }) => window.localStorage.setItem(key, value), {
      key: `peerfetch.deviceKey.${DEVICE_ID}`,
      value: stale,
    });
    const page = await context.newPage();
    try {
      const before = harness.audits.length;
      await page.goto(`${harness.url}/devices/${DEVICE_ID}/session?connect=1`);
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Failed');
      const warning = page.getByRole('alert').filter({ hasText: 'identity key has changed' });
      await warning.waitFor();
      await shot(page, 'session-key-changed-phone');
      expect(await page.getByRole('button', { name: /^(Connect|Reconnect)$/ }).count()).toBe(0);
      expect(harness.audits.length).toBe(before); // no request reached the device
      await page.getByRole('button', { name: 'Trust the new key…' }).click();
      await page.getByRole('button', { name: 'Yes, forget the old key and connect' }).click();
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Verified');
      expect(await page.getByTestId('device-fingerprint').innerText()).toContain(
        keyFingerprint(devicePair.publicKey).display.split(' ')[0] ?? '?',
      );
    } finally {
      await context.close();
    }
  });
});

describe('viewer', () => {
  it('reads but cannot POST: the method is disabled with an explanation', async () => {
    const { context, page, errors } = await open(VIEWPORTS[1], DEMO_IDS.bob);
    try {
      await expect.poll(() => state(page).textContent(), { timeout: 30_000 }).toBe('Verified');
      const select = page.getByLabel('Method');
      expect(await select.locator('option[value="POST"]').isDisabled()).toBe(true);
      expect(await select.locator('option[value="GET"]').isDisabled()).toBe(false);
      await expect.poll(() => page.getByText('only GET and HEAD are available').count()).toBe(1);
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.getByTestId('response-status').textContent()).toMatch(/^\s*200/);
      await shot(page, 'session-viewer-phone');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('standalone bundle (dist/peerfetch.js)', () => {
  it('a plain page connects with e-mail/password, fetches the demo API; a viewer POST is refused by the agent', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${harness.url}/plain.html`);
      const result = await page.evaluate(
        async ({ registrarUrl, deviceId, upstream }) => {
          const w = window as unknown as {
            peerfetch: {
              PeerFetch: new (config: unknown) => {
                connect(id: string): Promise<void>;
                fetch(url: string, init?: RequestInit): Promise<Response>;
                close(): Promise<void>;
                state: string;
                deviceKeyFingerprint: string | null;
              };
            };
          };
          const pf = new w.peerfetch.PeerFetch({
            registrarUrl,
            email: 'bob@example.com',
            password: 'hunter2hunter2',
          });
          await pf.connect(deviceId);
          const hello = await pf.fetch(`${upstream}/api/hello`);
          const post = await pf.fetch(`${upstream}/api/echo`, { method: 'POST', body: 'x' });
          const out = {
            state: pf.state,
            fingerprint: pf.deviceKeyFingerprint,
            hello: { status: hello.status, body: (await hello.json()) as unknown },
            post: { status: post.status, body: (await post.json()) as unknown },
          };
          await pf.close();
          return { ...out, closed: pf.state };
        },
        { registrarUrl: harness.url, deviceId: DEVICE_ID, upstream: harness.upstreamUrl },
      );
      expect(result.state).toBe('verified');
      expect(result.fingerprint).toBe(keyFingerprint(devicePair.publicKey).display);
      expect(result.hello).toMatchObject({
        status: 200,
        body: { message: 'hello from gate-camera' },
      });
      expect(result.post).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      expect(result.closed).toBe('idle');
      expect(
        harness.audits.some((a) => a.method === 'POST' && a.status === 403 && a.role === 'viewer'),
      ).toBe(true);
    } finally {
      await context.close();
    }
  });
});
