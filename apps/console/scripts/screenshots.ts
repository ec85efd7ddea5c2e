// Screenshots of the built console against the in-memory fake registrar.
//
//   npm run screenshots -w @peerfetch/console      (builds, then captures)
//
// Serves dist/ with `vite preview` on an ephemeral loopback port, answers every /api/ call
// from FakeRegistrar inside Playwright's request interception (no demo code ships in the
// bundle), and captures each page at 1280×800 and 390×844 into artifacts/screenshots/.
// Run inside the loopback-only namespace: ../../scripts/netns-run.sh (the npm script does).
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { build, preview } from 'vite';
import { FakeRegistrar } from '../src/testing/fake-registrar.js';
import { launchChromium, VIEWPORTS } from '../test/e2e/browser.js';

const root = resolve(import.meta.dirname, '..');
const outDir = resolve(root, 'artifacts/screenshots');
const THEMES: ('light' | 'dark')[] = process.argv.includes('--dark')
  ? ['light', 'dark']
  : ['light'];

async function serveFakeApi(context: BrowserContext, registrar: FakeRegistrar) {
  await context.route('**/api/**', async (route) => {
    const req = route.request();
    const body = req.postDataBuffer();
    const response = await registrar.handle(
      new Request(req.url(), {
        method: req.method(),
        headers: await req.allHeaders(),
        ...(body && req.method() !== 'GET' ? { body: new Uint8Array(body) } : {}),
      }),
    );
    await route.fulfill({
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: Buffer.from(await response.arrayBuffer()),
    });
  });
}

async function shot(page: Page, name: string) {
  await page.evaluate(() => document.fonts.ready);
  const path = resolve(outDir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  console.log(`wrote ${path}`);
}

async function main() {
  await build({ root, logLevel: 'warn' });
  const server = await preview({
    root,
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const base = server.resolvedUrls?.local[0];
  if (!base) throw new Error('vite preview did not report a URL');
  await mkdir(outDir, { recursive: true });

  const browser = await launchChromium();
  try {
    for (const theme of THEMES) {
      for (const vp of VIEWPORTS) {
        const context = await browser.newContext({
          viewport: { width: vp.width, height: vp.height },
          deviceScaleFactor: 1,
          colorScheme: theme,
          hasTouch: vp.name === 'phone',
          isMobile: vp.name === 'phone',
        });
        await serveFakeApi(context, FakeRegistrar.demo());
        const page = await context.newPage();
        page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
        const tag = `${vp.name}-${theme}`;

        await page.goto(new URL('/fleet', base).toString());
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await page.getByLabel('Email').fill('ada@example.com');
        await page.getByLabel('Password').fill('correct horse');
        await shot(page, `sign-in-${tag}`);

        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Fleet' }).waitFor();
        await page.getByRole('link', { name: 'gate-camera' }).waitFor();
        await shot(page, `fleet-${tag}`);

        await page.getByRole('link', { name: 'gate-camera' }).click();
        await page.getByRole('heading', { name: 'Key fingerprint' }).waitFor();
        await shot(page, `device-${tag}`);

        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: 'Enroll' })
          .filter({ visible: true })
          .click();
        await page.getByRole('heading', { name: 'New claim code' }).waitFor();
        await page.getByLabel('Tags').fill('site:north, camera');
        await page.getByRole('button', { name: 'Create claim code' }).click();
        await page.getByRole('heading', { name: 'Claim code created' }).waitFor();
        await shot(page, `enroll-${tag}`);

        for (const [path, heading] of [
          ['/access', 'Access'],
          ['/audit', 'Audit log'],
        ] as const) {
          await page.goto(new URL(path, base).toString());
          await page.getByRole('heading', { level: 1, name: heading }).waitFor();
          await page.getByRole('table').first().waitFor();
          await shot(page, `${path.slice(1)}-${tag}`);
        }

        await context.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
