// The payload never goes through the registrar, proven by its own counters: a plain page in
// Debian Chromium (the console's standalone bundle, served by the REAL registrar process)
// signs in, connects to the REAL agent process over a WebRTC DataChannel and downloads a
// 64 MiB clip, hashed in the page. The registrar's Prometheus counters of everything it
// carried (HTTP both ways, the console WebSocket both ways, every message published through
// its embedded broker) grow by less than 1 % of the clip meanwhile, and the clip arrives
// SHA-256 identical. Runs inside the loopback-only namespace (`test` script, last step).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticFile } from '../../src/demo/synthetic.js';
import { buildAgent } from '../support/build.js';
import {
  type AgentProcess,
  ADMIN,
  Api,
  type RegistrarProcess,
  type TestDatabase,
  createDatabase,
  startAgent,
  startRegistrar,
  waitFor,
} from './harness.js';

const inNetns = process.env['PEERFETCH_IN_NETNS'] === '1';
const CLIP = 'night.bin';
const CLIP_SIZE = 64 * 1024 * 1024;
/** The counters that add up to "what passed through the registrar". */
const CONTROL_PLANE = [
  'registrar_http_bytes_in_total',
  'registrar_http_bytes_out_total',
  'registrar_ws_bytes_in_total',
  'registrar_ws_bytes_out_total',
  'registrar_broker_publish_bytes_total',
] as const;
// as the console's e2e (apps/console/test/e2e/chromium.ts; an app may not import another)
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
const CONSOLE_DIR = resolve(import.meta.dirname, '../../../console');

let root: string;
let db: TestDatabase;
let registrar: RegistrarProcess;
let agent: AgentProcess;
let browser: Browser;
let clipSha: string;
let deviceId: string;

async function counters(): Promise<Record<(typeof CONTROL_PLANE)[number], number>> {
  const text = await (await fetch(`${registrar.url}/metrics`)).text();
  const out = {} as Record<(typeof CONTROL_PLANE)[number], number>;
  for (const name of CONTROL_PLANE) {
    const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?(?:e\\+\\d+)?)$`, 'm').exec(text);
    if (!m?.[1]) throw new Error(`${name} missing from /metrics`);
    out[name] = Number(m[1]);
  }
  return out;
}

beforeAll(async () => {
  if (!inNetns) return;
  const cli = buildAgent();
  root = mkdtempSync(join(tmpdir(), 'agent-nopayload-'));
  mkdirSync(join(root, 'clips'));
  clipSha = await writeSyntheticFile(join(root, 'clips', CLIP), CLIP_SIZE, 11);
  // the console's standalone client bundle and a plain page, served by the registrar
  const site = join(root, 'site');
  execFileSync(
    join(CONSOLE_DIR, 'node_modules/.bin/vite'),
    [
      'build',
      '--config',
      'vite.standalone.config.ts',
      '--outDir',
      site,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: CONSOLE_DIR, env: { ...process.env, NODE_ENV: 'production' }, stdio: 'pipe' },
  );
  writeFileSync(
    join(site, 'index.html'),
    '<!doctype html><title>plain</title><script src="/peerfetch.js"></script>',
  );
  db = await createDatabase();
  registrar = await startRegistrar(db.url, join(root, 'registrar'), { CONSOLE_DIR: site });
  const api = await new Api(registrar.url).login();
  const claimCode = await api.claimCode('cam-np');
  agent = startAgent(cli, {
    REGISTRAR_URL: registrar.url,
    CLAIM_CODE: claimCode,
    DEVICE_NAME: 'cam-np',
    DATA_DIR: join(root, 'agent'),
    CLIPS_DIR: join(root, 'clips'),
    UPSTREAM_ORIGINS: 'http://127.0.0.1:9',
    ICE_BIND_ADDRESS: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const device = await waitFor('device enrolled and online', async () =>
    (await api.devices()).find((d) => d.name === 'cam-np' && d.status === 'online'),
  );
  deviceId = device.id;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  agent?.child.kill('SIGKILL');
  await registrar?.stop('SIGKILL');
  await db?.drop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!inNetns)('no payload through the registrar', () => {
  it('a 64 MiB clip reaches Chromium intact while the registrar carries < 1 % of it', async () => {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${registrar.url}/`);
    const before = await counters();
    const result = await page.evaluate(
      async ({ registrarUrl, email, password, deviceId, clip }) => {
        const w = globalThis as unknown as {
          peerfetch: {
            PeerFetch: new (config: unknown) => {
              connect(id: string): Promise<void>;
              fetch(url: string): Promise<Response>;
              close(): Promise<void>;
              state: string;
            };
          };
        };
        const pf = new w.peerfetch.PeerFetch({ registrarUrl, email, password });
        await pf.connect(deviceId);
        const res = await pf.fetch(`/_agent/clips/${clip}`);
        const body = await res.arrayBuffer();
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
        const state = pf.state;
        await pf.close();
        return {
          status: res.status,
          bytes: body.byteLength,
          sha: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
          state,
        };
      },
      { registrarUrl: registrar.url, ...ADMIN, deviceId, clip: CLIP },
    );
    // the hangup and the agent's audit upload may follow the close: let them land
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await counters();
    expect(errors).toEqual([]);
    expect(result).toMatchObject({ status: 200, bytes: CLIP_SIZE, state: 'verified' });
    expect(result.sha).toBe(clipSha);
    const carried = Object.fromEntries(CONTROL_PLANE.map((k) => [k, after[k] - before[k]]));
    const total = Object.values(carried).reduce((a, b) => a + b, 0);
    console.log(
      `no-payload: clip ${CLIP_SIZE} bytes; registrar carried ${total} bytes ` +
        `(${((total / CLIP_SIZE) * 100).toFixed(3)} %): ${JSON.stringify(carried)}`,
    );
    // the session really went through the registrar's signaling (not a bypass)...
    expect(carried.registrar_ws_bytes_in_total).toBeGreaterThan(0);
    expect(carried.registrar_broker_publish_bytes_total).toBeGreaterThan(0);
    // ...and the clip did not
    expect(total).toBeLessThan(CLIP_SIZE / 100);
  });

  it('a user without a grant on the device cannot connect (refused by the registrar)', async () => {
    const api = await new Api(registrar.url).login();
    const user = { email: 'nogrant@agent-system.test', password: 'no-grant-Passw0rd!' };
    const created = await api.call('POST', '/api/users', {
      ...user,
      name: 'No Grant',
      role: 'member',
    });
    expect(created.status).toBe(201);
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${registrar.url}/`);
    const refusal = await page.evaluate(
      async ({ registrarUrl, email, password, deviceId }) => {
        const w = globalThis as unknown as {
          peerfetch: {
            PeerFetch: new (config: unknown) => {
              connect(id: string): Promise<void>;
              state: string;
            };
          };
        };
        const pf = new w.peerfetch.PeerFetch({ registrarUrl, email, password });
        try {
          await pf.connect(deviceId);
          return { connected: true, state: pf.state };
        } catch (e) {
          const err = e as { name: string; code?: string; message: string };
          return { connected: false, name: err.name, code: err.code, message: err.message };
        }
      },
      { registrarUrl: registrar.url, ...user, deviceId },
    );
    expect(refusal).toMatchObject({ connected: false, name: 'PeerFetchError' });
    expect(JSON.stringify(refusal)).toMatch(/not found|NOT_FOUND|404/i);
  });
});
