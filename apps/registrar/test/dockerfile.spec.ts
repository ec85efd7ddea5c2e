// Docker cannot build or run here. This keeps docker/registrar.Dockerfile consistent with the
// repository (what it copies and builds exists, the entry point is what the build emits,
// the health check hits a real route), and runs what the image and docker/compose.yml run
// as processes: the registrar with the image's ENV plus the compose service's environment
// and secret files, against a fresh PostgreSQL database and a Mosquitto started from
// docker/mosquitto/ (its init step included); the image's HEALTHCHECK and the broker's
// compose healthcheck are executed as they are written.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../src/config/config.js';
import {
  type ComposeService,
  DOCKER_DIR,
  readCompose,
  readDockerfile,
  ROOT,
  serviceEnv,
} from './docker-files.js';
import { Api, createTestDatabase, newAgent, type TestDatabase } from './helpers.js';

const run = promisify(execFile);
const APP = join(ROOT, 'apps', 'registrar');
const df = readDockerfile('registrar.Dockerfile');
const compose = readCompose();
const service = compose.services['registrar'] as ComposeService;

describe('registrar Dockerfile (static)', () => {
  it('is multi-stage: build on the build platform, deps and runtime on the target', () => {
    const froms = df.lines.filter((l) => l.startsWith('FROM '));
    expect(froms).toEqual([
      'FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build',
      'FROM ${NODE_IMAGE} AS deps',
      'FROM ${NODE_IMAGE} AS runtime',
    ]);
    expect(df.text).toContain('ARG NODE_IMAGE=node:20-bookworm-slim');
    expect(df.text).toMatch(/npm ci --omit=dev .*-w @peerfetch\/registrar/);
  });

  it('copies and builds only paths and workspaces that exist', () => {
    const sources = df.lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(8);
    for (const s of sources) expect(existsSync(join(ROOT, s)), s).toBe(true);
    for (const m of df.text.matchAll(/tsc -p (\S+)/g))
      expect(existsSync(join(ROOT, m[1] as string)), m[1]).toBe(true);
    const workspaces = [...df.text.matchAll(/-w (@peerfetch\/[a-z-]+)/g)].map((m) => m[1]);
    const manifests = ['libs/crypto', 'libs/peer-http', 'apps/registrar', 'apps/console'].map(
      (d) =>
        JSON.parse(readFileSync(join(ROOT, d, 'package.json'), 'utf8')) as {
          name: string;
          scripts?: Record<string, string>;
        },
    );
    for (const w of workspaces)
      expect(
        manifests.map((m) => m.name),
        w,
      ).toContain(w);
    for (const m of df.text.matchAll(/npm run build -w (\S+)/g)) {
      expect(manifests.find((x) => x.name === m[1])?.scripts?.['build'], m[1]).toBeTruthy();
    }
    // the registrar's build generates the Prisma client first (offline), from this schema
    const registrarPkg = manifests.find((x) => x.name === '@peerfetch/registrar');
    expect(registrarPkg?.scripts?.['prebuild']).toBe('npm run generate');
    expect(sources).toContain('prisma/');
  });

  it('runs the file the build emits: tini → node /app/apps/registrar/dist/main.js', () => {
    expect(df.json('ENTRYPOINT')).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      '/app/apps/registrar/dist/main.js',
    ]);
    expect(df.instr('CMD')).toEqual([]);
    const tsconfig = JSON.parse(readFileSync(join(APP, 'tsconfig.lib.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(APP, 'src', 'main.ts'))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['build']).toBe('tsc -p tsconfig.lib.json');
    expect(pkg.scripts['start']).toBe('node dist/main.js');
    expect(df.runtime).toContain('COPY --from=build /src/apps/registrar/dist apps/registrar/dist');
    expect(df.instr('WORKDIR')).toEqual(['/app']);
  });

  it('runs as a non-root user with /data (0700) as its volume, SIGTERM to stop', () => {
    expect(df.instr('USER').at(-1)).toBe('10001:10001');
    expect(df.text).toMatch(/useradd --system --uid 10001/);
    expect(df.text).toMatch(/chown registrar:registrar \/data .*chmod 0700 \/data/s);
    expect(df.json('VOLUME')).toEqual(['/data']);
    expect(df.instr('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(df.text).toMatch(/apt-get install -y --no-install-recommends tini/);
  });

  it('sets only variables the config knows; the paths are the ones it copies', () => {
    const env = df.env();
    const known = new Set(Object.keys(configSchema.in.shape));
    for (const key of Object.keys(env)) {
      if (key !== 'NODE_ENV') expect(known.has(key), key).toBe(true);
    }
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      PORT: '8790',
      DATA_DIR: '/data',
      MIGRATIONS_DIR: '/app/prisma/migrations',
      CONSOLE_DIR: '/app/console',
    });
    expect(df.runtime).toContain('COPY --from=build /src/prisma/migrations prisma/migrations');
    expect(df.runtime).toContain('COPY --from=build /src/apps/console/dist console');
    // the default MIGRATIONS_DIR resolves to the same place in this layout (/app ↔ the repo)
    expect(loadConfig({}).migrationsDir).toBe(join(ROOT, 'prisma', 'migrations'));
    expect(readdirSync(join(ROOT, 'prisma', 'migrations')).length).toBeGreaterThan(0);
    // the console build writes the app and the standalone bundle to apps/console/dist
    for (const config of ['vite.config.ts', 'vite.standalone.config.ts']) {
      expect(readFileSync(join(ROOT, 'apps/console', config), 'utf8')).toContain("outDir: 'dist'");
    }
    expect(readFileSync(join(ROOT, 'apps/console/vite.standalone.config.ts'), 'utf8')).toContain(
      'emptyOutDir: false',
    );
  });

  it('health-checks GET /ready, a public route outside the /api prefix', () => {
    const hc = df.instr('HEALTHCHECK').at(-1) ?? '';
    expect(hc).toMatch(/--start-period=\d+s/);
    expect(hc).toContain("/ready')");
    const controller = readFileSync(join(APP, 'src/observability/health.controller.ts'), 'utf8');
    expect(controller).toContain("@Get('ready')");
    expect(controller).toContain('@Public()');
    expect(readFileSync(join(APP, 'src/app.ts'), 'utf8')).toMatch(
      /setGlobalPrefix\('api', \{ exclude: \[[^\]]*'ready'/,
    );
  });

  it('targets the platforms argon2 (the one native module) ships glibc prebuilds for', () => {
    const platforms = /--platform (\S+)/.exec(df.text)?.[1]?.split(',') ?? [];
    expect(platforms).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
    const dir = {
      'linux/amd64': 'linux-x64',
      'linux/arm64': 'linux-arm64',
      'linux/arm/v7': 'linux-arm',
    };
    const prebuilds = join(ROOT, 'node_modules', 'argon2', 'prebuilds');
    for (const p of platforms) {
      const files = readdirSync(join(prebuilds, dir[p as keyof typeof dir]));
      expect(
        files.some((f) => f.endsWith('.glibc.node')),
        p,
      ).toBe(true);
    }
    expect(df.text).toContain("import('argon2')");
  });
});

// --- the image's start command as a process -------------------------------------------------

const BUILD = join(APP, '.test-build');

/** tsc with the production tsconfig into .test-build/ (as the image's build stage does). */
function buildRegistrar(): string {
  mkdirSync(BUILD, { recursive: true });
  copyFileSync(join(APP, 'package.json'), join(BUILD, 'package.json'));
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'tsc'),
    [
      '-p',
      'tsconfig.lib.json',
      '--outDir',
      join(BUILD, 'dist'),
      '--tsBuildInfoFile',
      join(BUILD, 'tsbuildinfo'),
    ],
    { cwd: APP, stdio: 'pipe' },
  );
  return join(BUILD, 'dist', 'main.js');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function dynsecPlugin(): Promise<string> {
  const { stdout } = await run('dpkg', ['-L', 'mosquitto']).catch(() => ({ stdout: '' }));
  const found = stdout.split('\n').find((l) => l.endsWith('/mosquitto_dynamic_security.so'));
  if (!found) throw new Error("Mosquitto's dynamic-security plugin not found (dpkg -L mosquitto)");
  return found;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Runs the image's HEALTHCHECK CMD (exec form) with the container's PORT. */
async function healthcheck(env: Record<string, string>): Promise<number> {
  const cmd = JSON.parse(/CMD (\[.*\])$/.exec(df.instr('HEALTHCHECK').at(-1) ?? '')?.[1] ?? '[]');
  const [bin, ...args] = cmd as string[];
  expect(bin).toBe('node');
  try {
    await run(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout: 5000,
    });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? 1;
  }
}

/** Runs the mosquitto service's compose healthcheck (CMD-SHELL) against this port. */
async function brokerHealthcheck(port: number): Promise<number> {
  const test = compose.services['mosquitto']?.healthcheck?.test ?? [];
  expect(test[0]).toBe('CMD-SHELL');
  const script = (test[1] ?? '').replaceAll('$$', '$').replace('-p 1883', `-p ${port}`);
  try {
    await run('sh', ['-c', script], { timeout: 10_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? 1;
  }
}

describe('the image and its compose service, as processes', () => {
  let tmp: string;
  let db: TestDatabase;
  let broker: ChildProcess | undefined;
  let brokerPort: number;
  let registrar: ChildProcess | undefined;
  let output = '';
  let env: Record<string, string>;
  let url: string;
  const secrets = () => join(tmp, 'secrets');
  const secret = (name: string) => readFileSync(join(secrets(), name), 'utf8').trim();

  beforeAll(async () => {
    const main = buildRegistrar();
    tmp = mkdtempSync(join(tmpdir(), 'pf-image-'));
    db = await createTestDatabase();
    // docker/init-secrets.sh, then the database URL of this test's database
    execFileSync('sh', [join(DOCKER_DIR, 'init-secrets.sh'), secrets()], { stdio: 'pipe' });
    writeFileSync(join(secrets(), 'database_url'), `${db.url}\n`);

    // mosquitto-init (docker/mosquitto/init-dynsec.sh with the service's env), then the broker
    // on docker/mosquitto/mosquitto.conf with only host paths and the port changed
    const data = join(tmp, 'mosquitto-data');
    mkdirSync(data);
    const init = compose.services['mosquitto-init'] as ComposeService;
    const initEnv = {
      PATH: process.env['PATH'] ?? '',
      ...serviceEnv(init),
      DYNSEC_FILE: join(data, 'dynamic-security.json'),
      DYNSEC_PASSWORD_FILE: join(secrets(), 'mqtt_registrar_password'),
    };
    const initScript = join(DOCKER_DIR, 'mosquitto', 'init-dynsec.sh');
    expect(execFileSync('sh', [initScript], { env: initEnv, encoding: 'utf8' })).toContain(
      'created',
    );
    expect(execFileSync('sh', [initScript], { env: initEnv, encoding: 'utf8' })).toContain('kept');
    brokerPort = await freePort();
    const conf = readFileSync(join(DOCKER_DIR, 'mosquitto', 'mosquitto.conf'), 'utf8')
      .replace(/^listener 1883$/m, `listener ${brokerPort} 127.0.0.1`)
      .replace('/usr/lib/mosquitto_dynamic_security.so', await dynsecPlugin())
      .replaceAll('/mosquitto/data/', `${data}/`);
    // as root, Mosquitto would switch to the `mosquitto` user (the image runs it as 1883)
    const confFile = join(tmp, 'mosquitto.conf');
    writeFileSync(confFile, conf + (process.getuid?.() === 0 ? 'user root\n' : ''));
    broker = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let brokerLog = '';
    broker.stdout?.on('data', (d: Buffer) => (brokerLog += d.toString()));
    broker.stderr?.on('data', (d: Buffer) => (brokerLog += d.toString()));
    while ((await brokerHealthcheck(brokerPort)) !== 0) {
      if (broker.exitCode !== null) throw new Error(`mosquitto exited:\n${brokerLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // the registrar: the image's ENV, then the compose environment, with the container's
    // paths mapped to this machine (and nothing else changed)
    const consoleDir = join(tmp, 'console');
    mkdirSync(consoleDir);
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>peerfetch</title>');
    const port = await freePort();
    const paths: Record<string, string> = {
      '/data': join(tmp, 'data'),
      '/app/prisma/migrations': join(ROOT, 'prisma', 'migrations'),
      '/app/console': consoleDir,
    };
    const image = df.env();
    for (const [k, v] of Object.entries(image)) {
      if (v.startsWith('/')) {
        expect(paths[v], `unmapped path ${k}=${v}`).toBeDefined();
        image[k] = paths[v] as string;
      }
    }
    const composed = serviceEnv(service);
    for (const [k, v] of Object.entries(composed)) {
      if (v.startsWith('/run/secrets/')) composed[k] = join(secrets(), v.slice(13));
    }
    expect(composed['MQTT_URL']).toBe('mqtt://mosquitto:1883');
    composed['MQTT_URL'] = `mqtt://127.0.0.1:${brokerPort}`;
    env = { PATH: process.env['PATH'] ?? '', ...image, ...composed, PORT: String(port) };
    url = `http://127.0.0.1:${port}`;
    const entry = df.json('ENTRYPOINT').slice(2); // tini -- (not installed here)
    expect(entry).toEqual(['node', '/app/apps/registrar/dist/main.js']);
    registrar = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    registrar.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    registrar.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  });

  afterAll(async () => {
    if (registrar && registrar.exitCode === null) {
      registrar.kill('SIGKILL');
      await exitOf(registrar);
    }
    if (broker && broker.exitCode === null) {
      broker.kill('SIGTERM');
      await exitOf(broker);
    }
    await db?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('becomes healthy by the image HEALTHCHECK within its start period', async () => {
    const period = Number(/--start-period=(\d+)s/.exec(df.instr('HEALTHCHECK').at(-1) ?? '')?.[1]);
    const deadline = Date.now() + period * 1000;
    while ((await healthcheck({ PORT: env['PORT'] as string })) !== 0) {
      if (registrar?.exitCode !== null) throw new Error(`registrar exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`not healthy after ${period} s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await (await fetch(`${url}/ready`)).json()).toEqual({
      status: 'ready',
      database: 'postgresql',
      mqtt: 'connected',
    });
    expect(output).toContain(`registrar listening on http://0.0.0.0:${env['PORT']}`);
    expect(output).toContain('database: postgresql');
  });

  it('takes its secrets from the files: admin password, and the broker account', async () => {
    const api = new Api(url);
    const login = await api.post('/api/auth/login', {
      email: env['BOOTSTRAP_ADMIN_EMAIL'],
      password: secret('admin_password'),
    });
    expect(login.status).toBe(200);
    // no generated password printed: it came from BOOTSTRAP_ADMIN_PASSWORD_FILE
    expect(output).not.toContain('Sign in as');
    for (const name of ['admin_password', 'mqtt_registrar_password', 'postgres_password']) {
      expect(output).not.toContain(secret(name));
    }
    const index = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    expect(await index.text()).toContain('<title>peerfetch</title>');
  });

  it('provisions an enrolled device on the compose Mosquitto, which lets it in', async () => {
    const api = await new Api(url).login(env['BOOTSTRAP_ADMIN_EMAIL'], secret('admin_password'));
    const code = await api.post('/api/claim-codes', {});
    const enrolled = await newAgent().enroll(api, code.body.code);
    expect(enrolled.status).toBe(201);
    const { deviceId, mqtt: creds } = enrolled.body;
    expect(creds.url).toBe(env['MQTT_PUBLIC_URL']);
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, {
      clientId: `pf-agent-${deviceId}`,
      username: creds.username,
      password: creds.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    try {
      await device.publishAsync(
        `pf/v1/dev/${deviceId}/status`,
        JSON.stringify({ state: 'online', agentVersion: '0.0.0-test', ts: Date.now() }),
        { qos: 1, retain: true },
      );
      const deadline = Date.now() + 10_000;
      while ((await api.get(`/api/devices/${deviceId}`)).body.status !== 'online') {
        if (Date.now() > deadline) throw new Error('the device never showed online');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await device.endAsync(true);
    }
  });

  it('stops on SIGTERM with exit 0; then both health checks fail', async () => {
    registrar?.kill('SIGTERM');
    const code = await exitOf(registrar as ChildProcess);
    expect(code, output).toBe(0);
    expect(await healthcheck({ PORT: env['PORT'] as string })).not.toBe(0);
    broker?.kill('SIGTERM');
    await exitOf(broker as ChildProcess);
    expect(await brokerHealthcheck(brokerPort)).not.toBe(0);
  });
});
