// The README's first Quick-start command itself: `npm start` (scripts/start.mjs) from this
// checkout, as a process, on embedded defaults (PGlite, the in-process broker) in a fresh
// data directory. It builds what is needed, prints the URL and the first admin's
// credentials; that URL serves the console; signing in (on a phone) shows the demo device
// online; a clip plays. Ctrl-C (SIGINT) stops everything (exit 0, nothing left listening);
// a second start reuses the data: the same device, not enrolled again, the first password.
// Runs inside the loopback-only namespace, in Debian Chromium.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectPlays, launchChromium, openPage, VIEWPORTS } from './chromium.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const shots = resolve(import.meta.dirname, '../../artifacts/screenshots');
const DEVICE = 'demo-camera';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? done(a.port) : fail(new Error('no port'))));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves with the output once `pattern` matched it (rejects if the process exits). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function npmStart(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group: a failed test can kill it with everything it started
    detached: true,
  });
  let out = '';
  const add = (c: Buffer): void => {
    out = (out + c.toString()).slice(-2_000_000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 300_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`npm start exited:\n${out.slice(-4000)}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** SIGKILL to the whole process group (registrar, upstream and agent included). */
function killAll(s: Started): void {
  try {
    if (s.child.pid) process.kill(-s.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Whether any process of the command's process group still exists. */
function groupAlive(s: Started): boolean {
  try {
    process.kill(-(s.child.pid ?? 0), 0);
    return true;
  } catch {
    return false;
  }
}

/** Ctrl-C, as a person in a terminal stops it. */
async function interrupt(s: Started): Promise<number | null> {
  s.child.kill('SIGINT');
  const timeout = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000));
  const code = await Promise.race([s.exited, timeout]);
  if (code === 'hung') {
    killAll(s);
    throw new Error(`npm start did not stop within 30 s of SIGINT:\n${s.output().slice(-4000)}`);
  }
  return code;
}

const inNetns = process.env['PEERFETCH_IN_NETNS'] === '1';
let dataDir = '';
let ports: { registrar: number; mqtt: number; upstream: number };
let env: Record<string, string>;
let browser: Browser | undefined;
const running: Started[] = [];

beforeAll(async () => {
  if (!inNetns) return;
  dataDir = await mkdtemp(join(tmpdir(), 'pf-start-'));
  ports = { registrar: await freePort(), mqtt: await freePort(), upstream: await freePort() };
  env = {
    PEERFETCH_DATA_DIR: dataDir,
    PEERFETCH_PORT: String(ports.registrar),
    PEERFETCH_MQTT_PORT: String(ports.mqtt),
    PEERFETCH_UPSTREAM_PORT: String(ports.upstream),
    // the namespace has loopback only, which libdatachannel does not gather by default (on
    // a real machine the demo agent's host candidates are its LAN addresses)
    ICE_BIND_ADDRESS: '127.0.0.1',
  };
  browser = await launchChromium();
});

afterAll(async () => {
  // whatever a failed test left running, children included (a clean stop leaves nothing)
  for (const s of running) killAll(s);
  await browser?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe.skipIf(!inNetns)('npm start (the README Quick start)', () => {
  let deviceId = '';
  let credentials = { email: '', password: '' };

  it('builds, starts on embedded defaults, prints the URL; sign in on a phone, device online, a clip plays; Ctrl-C stops it all', async () => {
    // the real command, build included (cached by Nx when the suite built it already)
    const first = npmStart(env);
    running.push(first);
    const [, url] = await first.waitFor(/peerfetch is up:\s+(\S+)/);
    const [, email, password] = await first.waitFor(/sign in as (\S+) \/ (\S+)/);
    credentials = { email: email ?? '', password: password ?? '' };
    expect(url).toBe(`http://127.0.0.1:${ports.registrar}/`);
    // the password is shown once and kept 0600
    const file = join(dataDir, 'admin-credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(credentials);

    const { context, page, errors } = await openPage(browser as Browser, VIEWPORTS[1]);
    try {
      await page.goto(url ?? '');
      await page.getByLabel('Email').fill(credentials.email);
      await page.getByLabel('Password').fill(credentials.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const link = page.getByRole('link', { name: DEVICE, exact: true });
      await link.waitFor({ timeout: 60_000 });
      await expect
        .poll(() => page.getByText('Online').count(), { timeout: 60_000 })
        .toBeGreaterThan(0);
      deviceId =
        /\/devices\/([0-9a-f-]{36})/.exec((await link.getAttribute('href')) ?? '')?.[1] ?? '';
      expect(deviceId).not.toBe('');
      await link.click();
      await page.getByRole('button', { name: 'Connect' }).click();
      await expect
        .poll(() => page.getByTestId('session-state').textContent(), { timeout: 30_000 })
        .toBe('Verified');
      await page.getByRole('tab', { name: 'Clips' }).click();
      await page.getByRole('button', { name: 'Play driveway-1530.mp4' }).click();
      const video = page.getByTestId('player');
      await video.waitFor();
      await expectPlays(video);
      await page.screenshot({ path: join(shots, 'start-clip-phone.png') });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }

    expect(groupAlive(first)).toBe(true);
    expect(await interrupt(first)).toBe(0);
    for (const [name, port] of Object.entries(ports)) {
      expect(await listening(port), `${name} port ${port} still open`).toBe(false);
    }
    // and no process of its group is left (the agent has no port to check)
    expect(groupAlive(first)).toBe(false);
  }, 600_000); // the build (the console's Vite build at least) is part of the command

  it('a second start reuses the data: same device, not enrolled again, same password', async () => {
    const second = npmStart({ ...env, PEERFETCH_SKIP_BUILD: '1' });
    running.push(second);
    await second.waitFor(/peerfetch is up:/);
    await second.waitFor(/the password is in /);
    expect(second.output()).not.toContain(credentials.password);
    expect(second.output()).not.toContain('enrolling the demo agent');
    const base = `http://127.0.0.1:${ports.registrar}`;
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const devices = async () => {
      const r = await fetch(`${base}/api/devices`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await r.json()) as {
        items: Array<{ id: string; name: string; status: string }>;
      };
      return body.items;
    };
    const deadline = Date.now() + 60_000;
    let list = await devices();
    while (!list.some((d) => d.status === 'online') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      list = await devices();
    }
    expect(list.map((d) => [d.id, d.name, d.status])).toEqual([[deviceId, DEVICE, 'online']]);
    expect(await interrupt(second)).toBe(0);
    expect(groupAlive(second)).toBe(false);
  }, 180_000);
});
