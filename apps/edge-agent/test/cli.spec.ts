// The CLI as a process, built with the production tsconfig: enroll, status, run
// (presence-only mode, enroll-on-first-run, presence on the real broker, SIGTERM).
// `run` uses the container's environment (DATA_DIR, CLIPS_DIR, CLAIM_CODE, …).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentState } from '../src/state.js';
import { buildAgent } from './support/build.js';
import { type FakeRegistrar, startFakeRegistrar } from './support/fake-registrar.js';
import { canConnect, waitFor } from './support/mosquitto.js';
import { observe } from './support/observer.js';

const CODE = 'CLAIM-CLI-0001';
const BROKER = 'mqtt://127.0.0.1:1883';
let cli: string;
let registrar: FakeRegistrar;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Result>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const run = (args: string[], env: Record<string, string> = {}): Promise<Result> =>
  start(args, env).done;

function dirs(): { DATA_DIR: string; CLIPS_DIR: string } {
  const root = mkdtempSync(join(tmpdir(), 'agent-cli-'));
  mkdirSync(join(root, 'clips'));
  return { DATA_DIR: join(root, 'data'), CLIPS_DIR: join(root, 'clips') };
}

beforeAll(async () => {
  if (!(await canConnect(1883)))
    throw new Error('Mosquitto is not reachable on 127.0.0.1:1883 (required)');
  cli = buildAgent();
  registrar = await startFakeRegistrar({ code: CODE, mqttUrl: BROKER });
}, 120_000);

afterAll(() => registrar.close());

describe('edge-agent CLI', () => {
  it('enroll → status (text and JSON), files 0600', async () => {
    const env = dirs();
    const r = await run(
      ['enroll', '--registrar', registrar.url, '--code', CODE, '--name', 'kiosk-7'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/enrolled device [0-9a-f-]{36}/);
    expect(r.stdout).toMatch(/device key fingerprint: +([A-Z2-7]{4} ){12}[A-Z2-7]{4}/);
    expect(r.stdout).not.toContain(CODE);
    for (const f of readdirSync(env.DATA_DIR))
      expect(statSync(join(env.DATA_DIR, f)).mode & 0o777).toBe(0o600);

    const again = await run(['enroll', '--registrar', registrar.url, '--code', CODE], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already enrolled');

    const status = await run(['status', '--json'], env);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      enrolled: true,
      name: 'kiosk-7',
      registrar: registrar.url,
      agent: null,
      healthy: false,
    });
    expect(status.stdout).not.toContain('pw-');
    const text = await run(['status'], env);
    expect(text.stdout).toContain('agent:         not running');
    expect((await run(['status', '--health'], env)).code).toBe(1);
  });

  it('usage and config errors exit 2 with the bad keys named', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['frobnicate'])).stderr).toContain('unknown command');
    const bad = await run(['status'], {
      DATA_DIR: 'relative',
      UPSTREAM_ORIGINS: 'ftp://x',
      MAX_SESSIONS: '0',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('dataDir (DATA_DIR)');
    expect(bad.stderr).toContain('upstreamOrigins.0 (UPSTREAM_ORIGINS)');
    expect(bad.stderr).toContain('maxSessions (MAX_SESSIONS)');
    const notEnrolled = await run(['run'], { ...dirs(), WEBRTC: 'off' });
    expect(notEnrolled.code).toBe(2);
    expect(notEnrolled.stderr).toContain('not enrolled');
  });

  it('presence-only run (WEBRTC=off) refuses every offer explicitly', async () => {
    const env = dirs();
    await run(['enroll', '--registrar', registrar.url, '--code', CODE], env);
    const deviceId = (
      JSON.parse((await run(['status', '--json'], env)).stdout) as { deviceId: string }
    ).deviceId;
    const { child, done } = start(['run'], { ...env, MQTT_URL: BROKER, WEBRTC: 'off' });
    await waitFor(
      'agent online',
      async () => (await readAgentState(env.DATA_DIR))?.mqtt === 'online',
    );
    expect((await readAgentState(env.DATA_DIR))?.mode).toBe('presence-only');
    const obs = await observe(BROKER, `pf/v1/dev/${deviceId}/#`);
    await obs.client.publishAsync(
      `pf/v1/dev/${deviceId}/signal/in`,
      JSON.stringify({
        type: 'offer',
        sessionId: 's-1',
        sdp: 'v=0',
        grant: 'a.b.c',
        iceServers: [],
      }),
      { qos: 1 },
    );
    const refusal = await obs.waitFor('refusal', (m) => m.topic.endsWith('/signal/out'));
    expect(refusal.json).toEqual({ type: 'error', sessionId: 's-1', reason: 'SESSIONS_DISABLED' });
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
    await obs.client.publishAsync(`pf/v1/dev/${deviceId}/status`, '', { retain: true, qos: 1 });
    await obs.close();
  });

  it('container start: enroll on first run, presence online, healthy, SIGTERM → offline and exit 0 within 5 s', async () => {
    const env = {
      ...dirs(),
      REGISTRAR_URL: registrar.url,
      CLAIM_CODE: CODE,
      DEVICE_NAME: 'container-test',
      UPSTREAM_ORIGINS: 'http://127.0.0.1:8778',
      LOG_LEVEL: 'info',
      HEARTBEAT_INTERVAL_S: '5',
    };
    const before = registrar.enrolled.length;
    const { child, done } = start(['run'], env);
    const identityOf = async () => (await run(['status', '--json'], env)).stdout;
    const state = await waitFor('agent online', async () => {
      const s = await readAgentState(env.DATA_DIR);
      return s?.mqtt === 'online' ? s : undefined;
    });
    expect(state).toMatchObject({ mode: 'full', pid: child.pid });
    expect(registrar.enrolled.length).toBe(before + 1);
    const deviceId = (JSON.parse(await identityOf()) as { deviceId: string }).deviceId;
    expect(deviceId).toBe(registrar.enrolled.at(-1)?.deviceId);
    expect((await run(['status', '--health'], env)).code).toBe(0);

    const obs = await observe(BROKER, `pf/v1/dev/${deviceId}/#`);
    await obs.waitFor('retained online', (m) => m.retain && m.json?.['state'] === 'online');
    // an offer whose grant does not verify is refused before any ICE work
    await obs.client.publishAsync(
      `pf/v1/dev/${deviceId}/signal/in`,
      JSON.stringify({
        type: 'offer',
        sessionId: 's-9',
        sdp: 'v=0',
        grant: 'a.b.c',
        iceServers: [],
      }),
      { qos: 1 },
    );
    const refusal = await obs.waitFor('refusal', (m) => m.topic.endsWith('/signal/out'));
    expect(refusal.json).toMatchObject({ type: 'error', sessionId: 's-9' });
    expect(String(refusal.json?.['reason'])).toMatch(/^(MALFORMED|GRANT_)/);

    const mark = obs.seen.length;
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const result = await done;
    const elapsed = Date.now() - sentAt;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(elapsed).toBeLessThan(5000); // the container contract (docker stop grace period), not a perf figure
    await obs.waitFor('offline on stop', (m) => m.json?.['state'] === 'offline', mark);
    expect((await readAgentState(env.DATA_DIR))?.mqtt).toBe('stopped');
    expect((await run(['status', '--health'], env)).code).toBe(1);
    expect(result.stdout).not.toContain(CODE);
    expect(result.stdout).not.toContain('pw-');
    await obs.client.publishAsync(`pf/v1/dev/${deviceId}/status`, '', { retain: true, qos: 1 });
    await obs.close();
  });
});
