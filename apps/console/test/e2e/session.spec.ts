// Device session end to end in Debian Chromium: the built console connects to a REAL
// edge-agent answerer over a real DataChannel (handshake verified), calls the demo API,
// plays a clip through the media service worker (then seeks to the middle), downloads a
// larger file with a matching SHA-256, reconnects; a viewer cannot POST. At 1280×800 and
// 390×844; screenshots go to artifacts/screenshots/ (gitignored).
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateKeyPair, keyFingerprint } from '@peerfetch/crypto';
import nodeDataChannel from 'node-datachannel';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticFile } from '../../../edge-agent/src/demo/synthetic.js';
import { SAMPLE_CLIP, SAMPLE_THUMB } from '../../../edge-agent/src/demo/sample-clips.js';
import { DEMO_IDS } from '../../src/testing/fake-registrar.js';
import { DEVICE_ID, type Harness, startHarness } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
const shots = resolve(root, 'artifacts/screenshots');
const LARGE = 'recording-large.bin';
const LARGE_SIZE = 6 * 1024 * 1024 + 321;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
];
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

const devicePair = generateKeyPair();
let harness: Harness;
let browser: Browser;
let largeSha: string;

beforeAll(async () => {
  const clipsDir = await mkdtemp(join(tmpdir(), 'console-e2e-clips-'));
  await copyFile(SAMPLE_CLIP, join(clipsDir, 'front-door.mp4'));
  await copyFile(SAMPLE_THUMB, join(clipsDir, 'front-door.jpg'));
  largeSha = await writeSyntheticFile(join(clipsDir, LARGE), LARGE_SIZE, 7);
  // vitest sets NODE_ENV=test, which would make Vite build a development bundle
  const env = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({ root, logLevel: 'warn', build: { outDir: 'dist', emptyOutDir: true } });
  } finally {
    process.env['NODE_ENV'] = env;
  }
  harness = await startHarness({
    distDir: join(root, 'dist'),
    clipsDir,
    registrarKey: generateKeyPair(),
    devicePair,
  });
  await mkdir(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await new Promise((r) => setTimeout(r, 100));
  nodeDataChannel.cleanup();
});

async function open(viewport: (typeof VIEWPORTS)[number], userId: string) {
  harness.registrar.signIn(userId);
  const context = await browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    deviceScaleFactor: 1,
    isMobile: viewport.name === 'phone',
    hasTouch: viewport.name === 'phone',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${harness.url}/devices/${DEVICE_ID}/session?connect=1`);
  return { context, page, errors };
}

const state = (page: Page) => page.getByTestId('session-state');

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
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

      // API explorer → the demo upstream's JSON through the agent's proxy
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.getByTestId('response-status').textContent()).toMatch(/^\s*200/);
      const body: unknown = JSON.parse(
        (await page.getByTestId('response-body').textContent()) ?? '',
      );
      expect(body).toMatchObject({ message: 'hello from gate-camera', device: 'gate-camera' });
      await shot(page, `session-api-${viewport.name}`);

      // clips: list with thumbnail, play through the service worker, seek to the middle
      await page.getByRole('tab', { name: 'Clips' }).click();
      await page.getByRole('button', { name: 'Play front-door.mp4' }).click();
      const video = page.getByTestId('player');
      await video.waitFor();
      await video.evaluate((v: HTMLVideoElement) => {
        v.muted = true;
        void v.play();
      });
      await expect
        .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 })
        .toBeGreaterThan(0.5);
      const duration = await video.evaluate((v: HTMLVideoElement) => v.duration);
      expect(duration).toBeGreaterThan(4);
      const middle = duration / 2;
      await video.evaluate((v: HTMLVideoElement, t: number) => {
        v.currentTime = t;
        void v.play();
      }, middle);
      await expect
        .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 })
        .toBeGreaterThan(middle + 0.5);
      const clipAudits = harness.audits.filter((a) => a.path === '/_agent/clips/front-door.mp4');
      expect(clipAudits.some((a) => a.status === 206)).toBe(true);
      expect(
        harness.audits.some((a) => a.path === '/_agent/clips/front-door.jpg' && a.status === 200),
      ).toBe(true);
      await shot(page, `session-clips-${viewport.name}`);

      // download with progress and a SHA-256 computed while streaming
      await page.getByRole('button', { name: `Download ${LARGE}` }).click();
      await expect
        .poll(() => page.getByTestId('download-sha256').textContent(), { timeout: 30_000 })
        .toBe(largeSha);

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
