#!/usr/bin/env node
// `npm start`: builds the workspace and brings the whole system up on embedded defaults, with
// no external services:
//
//   registrar  embedded PostgreSQL (PGlite) + in-process MQTT broker (aedes), serves the console
//   upstream   the demo REST API a device exposes (/api/hello, …)
//   agent      a demo edge agent, enrolled with a claim code on first start, serving sample clips
//
// State lives in .data/ (override with PEERFETCH_DATA_DIR): a second start reuses it.
// Ctrl-C (SIGINT) or SIGTERM stops every child cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = join(import.meta.dirname, '..');
const dataDir = resolve(root, process.env.PEERFETCH_DATA_DIR ?? '.data');
const registrarPort = Number(process.env.PEERFETCH_PORT ?? 8790);
const mqttPort = Number(process.env.PEERFETCH_MQTT_PORT ?? 18830);
const upstreamPort = Number(process.env.PEERFETCH_UPSTREAM_PORT ?? 8778);
const host = process.env.PEERFETCH_HOST ?? '127.0.0.1';
const registrarUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${registrarPort}`;
const baseEnv = {
  ...process.env,
  CHECKPOINT_DISABLE: '1',
  NX_NO_CLOUD: 'true',
  NX_DAEMON: 'false',
};

function step(message) {
  console.log(`peerfetch: ${message}`);
}

// --- 1. Build -------------------------------------------------------------------------------
if (process.env.PEERFETCH_SKIP_BUILD !== '1') {
  step('building the workspace (cached after the first time)…');
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: root,
    // a production bundle of the console whatever NODE_ENV the shell has (Vite and Vue
    // follow it: with `development` or `test` the console is built in development mode)
    env: { ...baseEnv, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0) {
    console.error('peerfetch: build failed; nothing started.');
    process.exit(build.status ?? 1);
  }
}

// --- 2. First-run state: admin credentials (0600), sample clips ------------------------------
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const credentialsFile = join(dataDir, 'admin-credentials.json');
let firstRun = false;
let credentials;
if (existsSync(credentialsFile)) {
  credentials = JSON.parse(readFileSync(credentialsFile, 'utf8'));
} else {
  firstRun = true;
  credentials = {
    email: process.env.PEERFETCH_ADMIN_EMAIL ?? 'admin@example.com',
    password: randomBytes(18).toString('base64url'),
  };
  writeFileSync(credentialsFile, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
}

const clipsDir = join(dataDir, 'clips');
const agentDataDir = join(dataDir, 'agent');
const agentDist = join(root, 'apps/edge-agent/dist');
if (!existsSync(clipsDir)) {
  const { writeSampleClips } = await import(join(agentDist, 'demo/sample-clips.js'));
  await writeSampleClips(clipsDir);
}

// --- 3. Children ------------------------------------------------------------------------------
const children = [];
let stopping = false;

function startChild(name, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}] `;
  const relay = (stream) => (chunk) => {
    const text = chunk.toString();
    stream.write(prefix + text.replace(/\n(?!$)/g, `\n${prefix}`));
  };
  child.stdout.on('data', relay(process.stdout));
  child.stderr.on('data', relay(process.stderr));
  child.on('exit', (code, signal) => {
    step(`${name} exited (${signal ?? code})`);
    if (!stopping) void stop(1);
  });
  children.push(child);
  return child;
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  step('stopping…');
  // Agent first (it says goodbye to the broker), then the rest.
  for (const c of [...children].reverse()) if (c.exitCode === null) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    process.exit(code || 1);
  }, 10_000);
  timer.unref();
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null,
    ),
  );
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function waitFor(url, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`${what} did not become ready at ${url} within ${timeoutMs / 1000} s`);
}

async function api(path, init = {}, token) {
  const res = await fetch(`${registrarUrl}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...init.headers,
    },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

try {
  const consoleDir = join(root, 'apps/console/dist');
  startChild('registrar', ['apps/registrar/dist/main.js'], {
    HOST: host,
    PORT: String(registrarPort),
    MQTT_PORT: String(mqttPort),
    DATA_DIR: join(dataDir, 'registrar'),
    BOOTSTRAP_ADMIN_EMAIL: credentials.email,
    BOOTSTRAP_ADMIN_PASSWORD: credentials.password,
    CONSOLE_DIR: isAbsolute(consoleDir) ? consoleDir : resolve(consoleDir),
  });
  startChild('upstream', [
    join(agentDist, 'demo/upstream.js'),
    '--host',
    '127.0.0.1',
    '--port',
    String(upstreamPort),
    '--name',
    'demo-camera',
  ]);
  await waitFor(`${registrarUrl}/ready`, 'the registrar');

  const agentEnv = {
    REGISTRAR_URL: registrarUrl,
    DATA_DIR: agentDataDir,
    CLIPS_DIR: clipsDir,
    UPSTREAM_ORIGINS: `http://127.0.0.1:${upstreamPort}`,
    DEVICE_NAME: 'demo-camera',
    HEARTBEAT_INTERVAL_S: '10',
  };
  if (!existsSync(join(agentDataDir, 'identity.json'))) {
    step('enrolling the demo agent with a fresh claim code…');
    const { token } = await api('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ email: credentials.email, password: credentials.password }),
    });
    const claim = await api(
      '/api/claim-codes',
      {
        method: 'POST',
        body: JSON.stringify({ label: 'demo-camera', tags: ['demo'], ttlHours: 1 }),
      },
      token,
    );
    agentEnv.CLAIM_CODE = claim.code;
  }
  startChild('agent', [join(agentDist, 'cli.js'), 'run'], agentEnv);

  console.log('');
  console.log(`peerfetch is up:  ${registrarUrl}/   (Ctrl-C stops everything)`);
  if (firstRun) {
    console.log(`  sign in as ${credentials.email} / ${credentials.password}`);
    console.log(`  (shown once; kept 0600 in ${credentialsFile})`);
  } else {
    console.log(`  sign in as ${credentials.email}; the password is in ${credentialsFile}`);
  }
  console.log('');
} catch (error) {
  console.error(`peerfetch: ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
}
