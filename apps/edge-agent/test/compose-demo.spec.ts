// The demo device of docker/compose.yml (profile `demo`) as processes, since no container
// runtime runs here: `enroll-demo` (docker/demo/enroll-demo.mjs) with the service's
// environment against the real registrar (apps/registrar/dist/main.js, embedded defaults),
// then `agent` with its environment on the volume enroll-demo wrote, healthy by the image's
// HEALTHCHECK (`status --health`). Container paths (/data, /clips, /run/secrets, /app)
// are mapped to temporary directories and this checkout; nothing else is changed.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BUILD_DIR, buildAgent, PROJECT_DIR } from './support/build.js';

const ROOT = join(PROJECT_DIR, '..', '..');
const REGISTRAR_MAIN = join(ROOT, 'apps', 'registrar', 'dist', 'main.js');
const ENROLL_DEMO = join(ROOT, 'docker', 'demo', 'enroll-demo.mjs');
const ADMIN_PASSWORD = 'demo admin password 0123456789';
const execFileAsync = promisify(execFile);

interface Service {
  environment?: Record<string, string | number>;
  entrypoint?: string[];
  volumes?: string[];
  secrets?: string[];
}
const compose = parseYaml(readFileSync(join(ROOT, 'docker', 'compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };

/** A service's environment with the file's own `${VAR:-default}` defaults applied. */
function serviceEnv(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [
      k,
      String(v).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1'),
    ]),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function node(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let tmp: string;
let registrar: ChildProcess;
let registrarUrl: string;
let registrarLog = '';
let agentDist: string;

beforeAll(async () => {
  expect(existsSync(REGISTRAR_MAIN), `${REGISTRAR_MAIN} (npx nx build @peerfetch/registrar)`).toBe(
    true,
  );
  const cli = buildAgent();
  agentDist = join(BUILD_DIR, 'dist');
  // dist/demo/sample-clips.js finds the clips at ../../assets, as in the image
  if (!existsSync(join(BUILD_DIR, 'assets'))) symlinkSync('../assets', join(BUILD_DIR, 'assets'));
  expect(existsSync(cli)).toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'pf-compose-demo-'));
  const port = await freePort();
  registrarUrl = `http://127.0.0.1:${port}`;
  registrar = spawn(process.execPath, [REGISTRAR_MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      MQTT_PORT: '0',
      DATA_DIR: join(tmp, 'registrar'),
      BOOTSTRAP_ADMIN_EMAIL: serviceEnv('enroll-demo')['ADMIN_EMAIL'] ?? '',
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  registrar.stdout?.on('data', (d: Buffer) => (registrarLog += d.toString()));
  registrar.stderr?.on('data', (d: Buffer) => (registrarLog += d.toString()));
  for (;;) {
    if (registrar.exitCode !== null) throw new Error(`registrar exited:\n${registrarLog}`);
    if (
      await fetch(`${registrarUrl}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  if (registrar && registrar.exitCode === null) {
    registrar.kill('SIGTERM');
    await new Promise((r) => registrar.once('exit', r));
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The enroll-demo service's environment, container paths mapped into `dir`. */
function enrollEnv(dir: string, password: string): Record<string, string> {
  const env = serviceEnv('enroll-demo');
  expect(env['REGISTRAR_URL']).toBe('http://127.0.0.1:8790');
  expect(env['ADMIN_PASSWORD_FILE']).toBe('/run/secrets/admin_password');
  writeFileSync(join(dir, 'admin_password'), `${password}\n`, { mode: 0o644 });
  return {
    ...env,
    REGISTRAR_URL: registrarUrl,
    ADMIN_PASSWORD_FILE: join(dir, 'admin_password'),
    // the edge-agent image's ENV, and the service's volumes
    DATA_DIR: join(dir, 'data'),
    CLIPS_DIR: join(dir, 'clips'),
    EDGE_AGENT_DIST: agentDist,
  };
}

async function adminToken(): Promise<string> {
  const res = await fetch(`${registrarUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: serviceEnv('enroll-demo')['ADMIN_EMAIL'],
      password: ADMIN_PASSWORD,
    }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function devices(): Promise<{ id: string; name: string; tags: string[]; status: string }[]> {
  const res = await fetch(`${registrarUrl}/api/devices`, {
    headers: { authorization: `Bearer ${await adminToken()}` },
  });
  return ((await res.json()) as { items: never[] }).items;
}

describe('docker/compose.yml demo device, as processes', () => {
  it('mounts the script enroll-demo runs, in the edge-agent image', () => {
    const s = compose.services['enroll-demo'] as Service;
    expect(s.entrypoint?.at(-1)).toBe('/peerfetch/enroll-demo.mjs');
    expect(s.volumes).toContain('./demo/enroll-demo.mjs:/peerfetch/enroll-demo.mjs:ro');
    expect(s.secrets).toEqual(['admin_password']);
  });

  it('enroll-demo enrolls once with a fresh claim code and writes the sample clips', async () => {
    const env = enrollEnv(mkdtempSync(join(tmp, 'demo-')), ADMIN_PASSWORD);
    const first = await node([ENROLL_DEMO], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/enrolled device [0-9a-f-]{36}/);
    expect(first.stdout).toContain('sample clips');
    expect(existsSync(join(env['DATA_DIR'] as string, 'identity.json'))).toBe(true);
    expect(readdirSync(env['CLIPS_DIR'] as string).sort()).toEqual([
      'driveway-1530.mp4',
      'front-door-0900.jpg',
      'front-door-0900.mp4',
      'front-door-1200.mp4',
    ]);
    const list = await devices();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: 'demo-camera', tags: ['demo'] });

    // `docker compose up` again: nothing to do
    const again = await node([ENROLL_DEMO], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already enrolled');
    expect(await devices()).toHaveLength(1);

    // then the agent service on that volume: healthy by the image's HEALTHCHECK, online
    const agentEnv = {
      ...serviceEnv('agent'),
      DATA_DIR: env['DATA_DIR'] as string,
      CLIPS_DIR: env['CLIPS_DIR'] as string,
    };
    const cli = join(agentDist, 'cli.js');
    const agent = spawn(process.execPath, [cli, 'run'], {
      env: { PATH: process.env['PATH'] ?? '', ...agentEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    agent.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    agent.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while ((await node([cli, 'status', '--health'], agentEnv)).code !== 0) {
        if (agent.exitCode !== null) throw new Error(`agent exited:\n${log}`);
        if (Date.now() > deadline) throw new Error(`agent never healthy:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      while ((await devices())[0]?.status !== 'online') {
        if (Date.now() > deadline) throw new Error(`device never online:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      agent.kill('SIGTERM');
      const code = await new Promise((r) => agent.once('exit', r));
      expect(code).toBe(0);
    }
  });

  it('fails with the reason when the admin password no longer signs in', async () => {
    const env = enrollEnv(mkdtempSync(join(tmp, 'demo-')), 'not the admin password');
    const r = await node([ENROLL_DEMO], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('POST /api/auth/login: 401');
    expect(r.stderr).toContain('the admin password changed since the first start?');
    expect(existsSync(join(env['DATA_DIR'] as string, 'identity.json'))).toBe(false);
  });
});
