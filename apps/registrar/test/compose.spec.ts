// docker/compose.yml cannot be started here (no container runtime): this parses it and
// checks what a reviewer would — every long-running service health-checked, nothing
// privileged, secrets as files, start order on health, and every variable handed to the
// registrar or the agent one that their config schema knows. What the registrar does with
// that environment (and the broker with its config) runs as processes in
// test/dockerfile.spec.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../src/config/config.js';
import {
  type ComposeService,
  DOCKER_DIR,
  interpolate,
  readCompose,
  readDockerfile,
  ROOT,
  serviceEnv,
} from './docker-files.js';

const compose = readCompose();
const services = Object.entries(compose.services);
const registrar = compose.services['registrar'] as ComposeService;
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY|DATABASE_URL/;

/** Services something waits for with service_completed_successfully. */
const oneShots = new Set(
  services.flatMap(([, s]) =>
    Object.entries(s.depends_on ?? {})
      .filter(([, d]) => d.condition === 'service_completed_successfully')
      .map(([name]) => name),
  ),
);

function imageHealthcheck(s: ComposeService): string | undefined {
  if (!s.build) return undefined;
  return readDockerfile(s.build.dockerfile.replace(/^docker\//, ''))
    .instr('HEALTHCHECK')
    .at(-1);
}

/** The agent's environment variables (ENV_KEYS of apps/edge-agent/src/config.ts). */
function agentEnvKeys(): string[] {
  const text = readFileSync(join(ROOT, 'apps/edge-agent/src/config.ts'), 'utf8');
  const block = /export const ENV_KEYS = \{([^}]*)\}/.exec(text)?.[1] ?? '';
  return [...block.matchAll(/^\s*([A-Z0-9_]+):/gm)].map((m) => m[1] as string);
}

const tmp = mkdtempSync(join(tmpdir(), 'pf-compose-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('docker/compose.yml', () => {
  it('has the control plane and, in profile demo, the demo device', () => {
    expect(compose.name).toBe('peerfetch');
    const base = services.filter(([, s]) => !s.profiles).map(([n]) => n);
    const demo = services.filter(([, s]) => s.profiles?.includes('demo')).map(([n]) => n);
    expect(base.sort()).toEqual(['mosquitto', 'mosquitto-init', 'postgres', 'registrar']);
    expect(demo.sort()).toEqual(['agent', 'demo-upstream', 'enroll-demo']);
    expect(compose.services['postgres']?.image).toMatch(/^postgres:16(\W|$)/);
    expect(compose.services['mosquitto']?.image).toMatch(/^eclipse-mosquitto:2(\W|$)/);
    expect(registrar.build?.dockerfile).toBe('docker/registrar.Dockerfile');
    expect(compose.services['agent']?.build?.dockerfile).toBe('docker/edge-agent.Dockerfile');
  });

  it('health-checks every long-running service; one-shots run once and exit', () => {
    for (const [name, s] of services) {
      if (oneShots.has(name)) {
        expect(s.restart, name).toBe('no');
        expect(s.healthcheck?.test, name).toBeUndefined();
        continue;
      }
      expect(s.restart, name).toBe('unless-stopped');
      expect(s.healthcheck?.disable, name).not.toBe(true);
      const own = s.healthcheck?.test;
      // a service that replaces the image's entrypoint must bring its own check
      if (own === undefined) expect(s.entrypoint, name).toBeUndefined();
      expect(own ?? imageHealthcheck(s), `${name} has no healthcheck`).toBeTruthy();
    }
  });

  it('starts in order of health, never just of creation', () => {
    for (const [name, s] of services) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} → ${dep}`).toBeDefined();
        if (oneShots.has(dep)) expect(condition).toBe('service_completed_successfully');
        else expect(condition, `${name} → ${dep}`).toBe('service_healthy');
        // a profile-less service never waits for a demo one
        if (!s.profiles) expect(target?.profiles, `${name} → ${dep}`).toBeUndefined();
      }
    }
    expect(Object.keys(registrar.depends_on ?? {}).sort()).toEqual(['mosquitto', 'postgres']);
  });

  it('grants no privileges beyond need', () => {
    for (const [name, s] of services) {
      expect(s.privileged, name).toBeUndefined();
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.cap_add, name).toBeUndefined();
      expect(s.security_opt, name).toContain('no-new-privileges:true');
      expect(s.read_only, name).toBe(true);
      expect(s.pid, name).toBeUndefined();
      expect(s.ipc, name).toBeUndefined();
      // host networking only for the demo device (WebRTC: its ICE candidates are the host's)
      if (s.network_mode !== undefined) {
        expect(s.network_mode, name).toBe('host');
        expect(s.profiles, name).toEqual(['demo']);
      }
      // non-root: the images' own USER (registrar, edge agent) or an explicit one here
      if (!s.build) expect(s.user, name).toMatch(/^(postgres|[1-9]\d*(:[1-9]\d*)?)$/);
    }
    for (const file of ['registrar.Dockerfile', 'edge-agent.Dockerfile']) {
      expect(readDockerfile(file).instr('USER').at(-1), file).toBe('10001:10001');
    }
  });

  it('hands secrets over as files, never as values', () => {
    for (const [name, s] of services) {
      const env = serviceEnv(s);
      for (const [key, value] of Object.entries(env)) {
        if (key.endsWith('_FILE')) {
          if (value === '') continue; // optional, off by default (TURN_SECRET_FILE)
          const secret = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(value)?.[1];
          expect(secret, `${name}.${key}`).toBeDefined();
          expect(s.secrets, `${name}.${key}`).toContain(secret);
        } else {
          expect(SECRET_NAME.test(key), `${name}.${key} is a secret in the clear`).toBe(false);
        }
      }
      for (const secret of s.secrets ?? []) {
        expect(compose.secrets[secret]?.file, secret).toMatch(/^\.\/secrets\/[a-z0-9_]+$/);
      }
    }
    // the optional TURN secret is mounted, so that setting TURN_SECRET_FILE is enough
    expect(
      interpolate('${TURN_SECRET_FILE:-}', { TURN_SECRET_FILE: '/run/secrets/turn_secret' }),
    ).toBe('/run/secrets/turn_secret');
    expect(registrar.secrets).toContain('turn_secret');
  });

  it('init-secrets.sh makes exactly the secret files, private, consistent and kept', () => {
    const dir = join(tmp, 'secrets');
    const run = () =>
      execFileSync('sh', [join(DOCKER_DIR, 'init-secrets.sh'), dir], { encoding: 'utf8' });
    expect(run()).toContain('created');
    const files = Object.values(compose.secrets).map((s) =>
      (s.file ?? '').replace('./secrets/', ''),
    );
    for (const f of files) {
      expect(existsSync(join(dir, f)), f).toBe(true);
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o644);
      expect(readFileSync(join(dir, f), 'utf8').trim().length, f).toBeGreaterThanOrEqual(32);
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const read = (f: string) => readFileSync(join(dir, f), 'utf8').trim();
    const pg = compose.services['postgres'] as ComposeService;
    const pgEnv = serviceEnv(pg);
    const url = new URL(read('database_url'));
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect(url.username).toBe(pgEnv['POSTGRES_USER']);
    expect(url.pathname).toBe(`/${pgEnv['POSTGRES_DB']}`);
    expect(url.password).toBe(read('postgres_password'));
    const before = files.map(read);
    expect(run()).toBe('');
    expect(files.map(read)).toEqual(before);
  });

  it('gives the registrar only variables its config schema knows, and a valid config', () => {
    const known = new Set(Object.keys(configSchema.in.shape));
    const env = serviceEnv(registrar);
    for (const key of Object.keys(env)) expect(known.has(key), key).toBe(true);
    expect(env['MQTT_PROVISIONING']).toBe('dynsec');
    // the broker the registrar talks to is the mosquitto service, on its configured listener
    const conf = readFileSync(join(DOCKER_DIR, 'mosquitto/mosquitto.conf'), 'utf8');
    const listener = /^listener (\d+)\s*$/m.exec(conf)?.[1];
    expect(env['MQTT_URL']).toBe(`mqtt://mosquitto:${listener}`);
    expect(compose.services['mosquitto']?.ports).toContain(`${listener}:${listener}`);
    // and its account is the dynsec admin that mosquitto-init creates
    expect(serviceEnv(compose.services['mosquitto-init'] as ComposeService)['DYNSEC_ADMIN']).toBe(
      env['MQTT_USERNAME'],
    );
    const port = readDockerfile('registrar.Dockerfile').env()['PORT'];
    expect(registrar.ports).toEqual([`${port}:${port}`]);
    // with the secret files init-secrets.sh makes, it is a valid configuration
    const dir = join(tmp, 'config-secrets');
    execFileSync('sh', [join(DOCKER_DIR, 'init-secrets.sh'), dir], { stdio: 'pipe' });
    const mapped = Object.fromEntries(
      Object.entries({ ...readDockerfile('registrar.Dockerfile').env(), ...env }).map(([k, v]) => [
        k,
        v.startsWith('/run/secrets/') ? join(dir, v.slice('/run/secrets/'.length)) : v,
      ]),
    );
    const config = loadConfig(mapped);
    const secret = (f: string) => readFileSync(join(dir, f), 'utf8').trim();
    expect(config.databaseUrl).toBe(secret('database_url'));
    expect(config.mqtt).toMatchObject({
      url: 'mqtt://mosquitto:1883',
      username: 'pf-registrar',
      password: secret('mqtt_registrar_password'),
      provisioning: 'dynsec',
    });
    expect(config.bootstrap.adminPassword).toBe(secret('admin_password'));
    expect(config.turn).toBeUndefined();
    // TURN on, as docs/operations.md says: TURN_URLS and TURN_SECRET_FILE in docker/.env
    const turn = serviceEnv(registrar, {
      TURN_URLS: 'turn:turn.example.com:3478?transport=udp',
      TURN_SECRET_FILE: '/run/secrets/turn_secret',
    });
    expect(
      loadConfig({
        ...mapped,
        TURN_URLS: turn['TURN_URLS'],
        TURN_SECRET_FILE: join(dir, 'turn_secret'),
      }).turn?.secret,
    ).toBe(secret('turn_secret'));
    expect(turn['TURN_SECRET_FILE']).toBe('/run/secrets/turn_secret');
  });

  it('gives the demo agent only variables the agent knows, on one data volume', () => {
    const known = new Set(agentEnvKeys());
    expect(known.has('UPSTREAM_ORIGINS')).toBe(true);
    const agent = compose.services['agent'] as ComposeService;
    for (const key of Object.keys(serviceEnv(agent))) expect(known.has(key), key).toBe(true);
    const enroll = compose.services['enroll-demo'] as ComposeService;
    // enroll-demo writes the identity and the clips the agent then uses
    expect(agent.volumes).toContain('agent-data:/data');
    expect(enroll.volumes).toContain('agent-data:/data');
    expect(agent.volumes).toContain('agent-clips:/clips:ro');
    expect(enroll.volumes).toContain('agent-clips:/clips');
    // the upstream it proxies to is the demo-upstream service's listener
    const upstream = compose.services['demo-upstream'] as ComposeService;
    const [, host, , port] = upstream.command ?? [];
    expect(serviceEnv(agent)['UPSTREAM_ORIGINS']).toBe(`http://${host}:${port}`);
    expect(upstream.healthcheck?.test?.join(' ')).toContain(`http://${host}:${port}/api/status`);
  });

  it('mounts only files that exist and builds from Dockerfiles that exist', () => {
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] as string;
        if (source.startsWith('.'))
          expect(existsSync(join(DOCKER_DIR, source)), `${name}: ${v}`).toBe(true);
        else expect(compose.volumes, `${name}: ${v}`).toHaveProperty([source]);
      }
      if (s.build) {
        expect(join(DOCKER_DIR, s.build.context)).toBe(ROOT);
        expect(existsSync(join(ROOT, s.build.dockerfile)), name).toBe(true);
      }
    }
    const entry = compose.services['demo-upstream']?.entrypoint?.at(-1) ?? '';
    expect(entry).toBe('/app/apps/edge-agent/dist/demo/upstream.js');
    expect(existsSync(join(ROOT, 'apps/edge-agent/src/demo/upstream.ts'))).toBe(true);
  });
});
