// The Chromium e2e helpers: the shared launch and viewports (./browser.ts) and the player
// checks (plays; a seek plays on from there).
import type { Locator } from 'playwright-core';
import { expect } from 'vitest';

export { CHROMIUM_ARGS, launchChromium, openPage, type Viewport, VIEWPORTS } from './browser.js';

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
