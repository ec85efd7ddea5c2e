// What every Chromium e2e run here shares: Debian's Chromium, launched for loopback WebRTC
// inside the test namespace (FACTS.md: host candidates on 127.0.0.1, no mDNS names, no
// background networking on this closed network), the two viewports the console is tested
// at, and the player checks (plays; a seek plays on from there).
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM_ARGS = [
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

export const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

export type Viewport = (typeof VIEWPORTS)[number];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A fresh context at `viewport` (touch on the phone) and a page whose errors are kept. */
export async function openPage(
  browser: Browser,
  viewport: Viewport,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    deviceScaleFactor: 1,
    isMobile: viewport.name === 'phone',
    hasTouch: viewport.name === 'phone',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

const currentTime = (video: Locator) => video.evaluate((v: HTMLVideoElement) => v.currentTime);

/** Starts the `<video>` (muted: autoplay rules never block it) and waits until it plays. */
export async function expectPlays(video: Locator): Promise<void> {
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true;
    void v.play();
  });
  await expect.poll(() => currentTime(video), { timeout: 20_000 }).toBeGreaterThan(0.5);
}

/** Seeks to `t` seconds and waits until playback went on from there. */
export async function expectPlaysFrom(video: Locator, t: number): Promise<void> {
  await video.evaluate((v: HTMLVideoElement, at: number) => {
    v.currentTime = at;
    void v.play();
  }, t);
  await expect.poll(() => currentTime(video), { timeout: 20_000 }).toBeGreaterThan(t + 0.5);
}
