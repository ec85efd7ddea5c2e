// The browser entry in Chromium (Debian's /usr/bin/chromium through playwright-core):
// the shared scenarios (every refusal code, known-answer vectors) bundled and run in the
// page, and a real handshake between the page (console, WebCrypto session key) and a
// node-datachannel device in this process. Runs inside the loopback-only namespace.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import nodeDataChannel, { type PeerConnection } from 'node-datachannel';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSigner,
  deviceHandshake,
  fromBase64url,
  generateKeyPair,
  parseSdpFingerprint,
  signGrant,
  toBase64url,
  type DeviceHandshakeResult,
  type HandshakeError,
} from '../../src/index.js';
import { scenarios } from '../shared/scenarios.js';
import type { PageSignal } from './browser/page.js';
import { Endpoint, channelOf, closeAll, incomingChannel, newPeer, whenOpen } from './ndc.js';

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
];

let browser: Browser;
let page: Page;
let server: Server;
const onSignal: { current: ((s: PageSignal) => void) | undefined } = { current: undefined };
const peers: PeerConnection[] = [];

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./browser/page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser', // a Node built-in anywhere in the graph fails the bundle
    target: 'chrome120',
    conditions: ['@peerfetch/source'],
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.text ?? '';
  server = createServer((req, res) => {
    if (req.url === '/page.js')
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (req.url === '/')
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>crypto</title><script type="module" src="/page.js"></script>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.exposeFunction('pfcSignal', (signal: PageSignal) => onSignal.current?.(signal));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page
    .waitForFunction(() => typeof window.pfc === 'object')
    .catch((error: unknown) => {
      throw new Error(`page did not load: ${pageErrors.join('; ')}`, { cause: error });
    });
});

afterAll(async () => {
  closeAll(...peers);
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  nodeDataChannel.cleanup();
});

describe('browser entry in Chromium: shared scenarios', () => {
  it('the page runs the same scenario list as Node', async () => {
    expect(await page.evaluate(() => window.pfc.scenarioNames())).toEqual(
      scenarios.map((s) => s.name),
    );
  });

  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const result = await page.evaluate((name) => window.pfc.runScenario(name), scenario.name);
      expect(result.error).toBeUndefined();
      expect(result.ok).toBe(true);
    });
  }
});

describe('Chromium console ↔ node-datachannel device', () => {
  it('handshake succeeds with a non-extractable WebCrypto session key; the channel then carries data', async () => {
    const registrar = generateKeyPair();
    const device = generateKeyPair();
    const deviceId = crypto.randomUUID();
    const sessionKey = fromBase64url(await page.evaluate(() => window.pfc.newSessionKey()), 32);
    const grant = await signGrant(
      { issuer: 'registrar', userId: 'bob', deviceId, orgId: 'org', role: 'operator', sessionKey },
      registrar,
    );

    const pc = newPeer('device');
    peers.push(pc);
    const endpoint = new Endpoint(pc, (signal) => {
      page.evaluate((s) => window.pfc.remote(s), signal).catch(() => undefined);
    });
    onSignal.current = (signal) => endpoint.receive(signal);
    const deviceSide: Promise<DeviceHandshakeResult> = incomingChannel(pc).then(async (dc) => {
      const channel = channelOf(dc);
      await whenOpen(dc);
      const result = await deviceHandshake(channel, {
        deviceId,
        deviceKey: createSigner(device),
        registrarKey: registrar.publicKey,
        localFingerprint: parseSdpFingerprint(endpoint.localSdp()),
        remoteFingerprint: parseSdpFingerprint(endpoint.appliedRemoteSdp()),
      });
      channel.send(new TextEncoder().encode('device says hi'));
      return result;
    });
    const consoleSide = page.evaluate(([id, g]) => window.pfc.connect(id, g), [
      deviceId,
      grant,
    ] as const);
    const [deviceResult, consoleResult] = await Promise.all([
      deviceSide.catch((error: HandshakeError) => error),
      consoleSide,
    ]);
    expect(consoleResult).toMatchObject({
      ok: true,
      deviceKey: toBase64url(device.publicKey),
      firstSight: true,
      afterwards: 'device says hi',
    });
    expect(deviceResult).toMatchObject({ grant: { sub: 'bob', role: 'operator' } });
    onSignal.current = undefined;
  });
  it('a relay substituting its own peer between Chromium and the device → FINGERPRINT_MISMATCH on both ends', async () => {
    const registrar = generateKeyPair();
    const device = generateKeyPair();
    const deviceId = crypto.randomUUID();
    const sessionKey = fromBase64url(await page.evaluate(() => window.pfc.newSessionKey()), 32);
    const grant = await signGrant(
      { issuer: 'registrar', userId: 'bob', deviceId, orgId: 'org', role: 'viewer', sessionKey },
      registrar,
    );
    // The relay answers the browser's offer itself (mc) and makes its own offer (md) to the device.
    const pcMc = newPeer('mitm-facing-console');
    const pcMd = newPeer('mitm-facing-device');
    const pcD = newPeer('device');
    peers.push(pcMc, pcMd, pcD);
    const mc = new Endpoint(pcMc, (signal) => {
      page.evaluate((s) => window.pfc.remote(s), signal).catch(() => undefined);
    });
    onSignal.current = (signal) => mc.receive(signal);
    const md: Endpoint = new Endpoint(pcMd, (s) => d.receive(s));
    const d: Endpoint = new Endpoint(pcD, (s) => md.receive(s));
    const chanMcReady = incomingChannel(pcMc).then((dc) => ({ dc, chan: channelOf(dc) }));
    const incomingD = incomingChannel(pcD);
    const dcMd = pcMd.createDataChannel('peerfetch');
    const chanMd = channelOf(dcMd);

    const consoleSide = page.evaluate(([id, g]) => window.pfc.connect(id, g), [
      deviceId,
      grant,
    ] as const);
    const [{ dc: dcMc, chan: chanMc }, dcD] = await Promise.all([
      chanMcReady,
      incomingD,
      whenOpen(dcMd),
    ]);
    await Promise.all([whenOpen(dcMc), whenOpen(dcD)]);
    const chanD = channelOf(dcD);
    let relayed = 0;
    chanMc.onMessage((m) => {
      relayed++;
      chanMd.send(m);
    });
    chanMd.onMessage((m) => {
      relayed++;
      chanMc.send(m);
    });
    const deviceResult = await deviceHandshake(chanD, {
      deviceId,
      deviceKey: createSigner(device),
      registrarKey: registrar.publicKey,
      localFingerprint: parseSdpFingerprint(d.localSdp()),
      remoteFingerprint: parseSdpFingerprint(d.appliedRemoteSdp()),
    }).then(
      () => 'SUCCEEDED',
      (error: HandshakeError) => error.code,
    );
    const consoleResult = await consoleSide;
    expect(relayed).toBeGreaterThan(0);
    expect(deviceResult).toBe('FINGERPRINT_MISMATCH');
    expect(consoleResult.ok).toBe(false);
    expect(consoleResult.code).toBe('FINGERPRINT_MISMATCH');
    expect(consoleResult.message).toContain('possible man-in-the-middle');
    onSignal.current = undefined;
  });
});
