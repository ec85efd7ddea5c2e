#!/usr/bin/env node
// The `enroll-demo` one-shot of docker/compose.yml (profile `demo`), run in the edge-agent
// image: what `npm start` (scripts/start.mjs) does for its demo agent, as a container step.
//
//   1. already enrolled (DATA_DIR/identity.json exists): nothing to do, exit 0;
//   2. otherwise sign in as the bootstrap admin (ADMIN_EMAIL, password in
//      ADMIN_PASSWORD_FILE), create a one-hour claim code tagged `demo`, and run
//      `edge-agent enroll` with it (the identity lands in DATA_DIR, the agent's volume);
//   3. write the sample clips into CLIPS_DIR if it is empty.
//
// Exit codes: 0 done (or nothing to do), 1 failure (the reason on stderr).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const env = process.env;
const registrarUrl = (env.REGISTRAR_URL ?? 'http://127.0.0.1:8790').replace(/\/+$/, '');
const dataDir = env.DATA_DIR ?? '/data';
const clipsDir = env.CLIPS_DIR ?? '/clips';
const agentDist = env.EDGE_AGENT_DIST ?? '/app/apps/edge-agent/dist';
const deviceName = env.DEVICE_NAME ?? 'demo-camera';
const email = env.ADMIN_EMAIL ?? 'admin@example.com';

function fail(message) {
  process.stderr.write(`enroll-demo: ${message}\n`);
  process.exit(1);
}

async function api(path, init = {}, token) {
  const res = await fetch(`${registrarUrl}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${body.code ?? ''}`.trim());
  }
  return body;
}

async function waitReady(timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${registrarUrl}/ready`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) fail(`the registrar at ${registrarUrl} is not ready`);
    await sleep(1000);
  }
}

if (existsSync(join(dataDir, 'identity.json'))) {
  process.stdout.write(`enroll-demo: already enrolled (${dataDir}/identity.json)\n`);
} else {
  if (!env.ADMIN_PASSWORD_FILE) fail('ADMIN_PASSWORD_FILE is not set');
  let password;
  try {
    password = readFileSync(env.ADMIN_PASSWORD_FILE, 'utf8').trim();
  } catch (error) {
    fail(`cannot read ADMIN_PASSWORD_FILE ${env.ADMIN_PASSWORD_FILE} (${error.code ?? error})`);
  }
  await waitReady();
  let code;
  try {
    const { token } = await api('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ email, password }),
    });
    ({ code } = await api(
      '/api/claim-codes',
      {
        method: 'POST',
        body: JSON.stringify({ label: deviceName, tags: ['demo'], ttlHours: 1 }),
      },
      token,
    ));
  } catch (error) {
    fail(
      `${error.message}\n  (the admin password changed since the first start? Make a claim code in ` +
        'the console and enroll by hand: docs/operations.md, "Deployment with Docker Compose")',
    );
  }
  const enroll = spawnSync(
    process.execPath,
    [join(agentDist, 'cli.js'), 'enroll', '--registrar', registrarUrl, '--code', code],
    { stdio: 'inherit', env: { ...env, DATA_DIR: dataDir, DEVICE_NAME: deviceName } },
  );
  if (enroll.status !== 0) fail(`edge-agent enroll exited with ${enroll.status ?? enroll.signal}`);
}

if (!existsSync(clipsDir) || readdirSync(clipsDir).length === 0) {
  const { writeSampleClips } = await import(
    pathToFileURL(join(agentDist, 'demo', 'sample-clips.js')).href
  );
  const written = await writeSampleClips(clipsDir);
  process.stdout.write(`enroll-demo: ${written.length} sample clips in ${clipsDir}\n`);
}
