#!/usr/bin/env node
// `npm run bench -w @peerfetch/registrar`: the registrar under N simulated agents.
//
// For each N in BENCH_AGENTS: a fresh registrar runs as its own process (`dist/main.js`, so
// its RSS is its own), N agents enroll over HTTP (claim code, challenge, proof) and connect
// over MQTT with their own credentials and retained presence, simulated by a few worker
// processes of many mqtt.js clients each (bench/agent-worker.mjs); then BENCH_CONCURRENCY
// consoles signal in a loop for BENCH_SECONDS: a session grant, the offer over the
// WebSocket, the agent's answer back over MQTT, hangup. The grant is asked for both ways
// in turn, on the same registrar and agents (BENCH_SESSION_REQUEST, default ws,rest): `ws`
// as a `request` on the signaling socket, `rest` as POST /api/sessions (what the web
// console does: in parallel with opening its socket). Prints a table and writes
// artifacts/bench/registrar.json. Loopback only; stops by itself.
//
// BENCH_AGENTS (1000,10000)  BENCH_SECONDS (15)  BENCH_CONCURRENCY (64)
// BENCH_BROKER (aedes,mosquitto): the MQTT broker of each run, side by side — `aedes`, the
// embedded broker inside the registrar process (`npm start`'s default), and/or `mosquitto`,
// a private Mosquitto 2 with the Dynamic Security plugin on a free loopback port, the
// registrar provisioning each device's account (MQTT_PROVISIONING=dynsec), as in
// production (docs/operations.md). Runs with `node --import tsx` (the Mosquitto helper is
// the tests' own, test/mosquitto-broker.ts).
// BENCH_AGENTS_PER_WORKER (5000)
// Database: BENCH_POSTGRES_URL (a server URL: a fresh database per run, dropped after),
// or BENCH_DATABASE_URL (used as is), or by default the embedded PGlite.
// BENCH_OUT: the JSON file to write (default artifacts/bench/registrar.json).
// BENCH_ENROLL (200): agents enrolled over HTTP (the enrollment rate is measured on them);
// on PostgreSQL the others are inserted directly as enrolled devices (same rows, MQTT
// credentials and presence path; enrolling 10,000 over HTTP takes minutes on this machine).
// BENCH_CPU_PROF=1: the registrar runs with --cpu-prof (profiles in artifacts/bench/profiles).
// File descriptors: the registrar holds one socket per agent, each worker one per agent
// it simulates: `ulimit -n` must exceed N + a few hundred (checked below).
import { execSync, fork, spawn } from 'node:child_process';
import { createHash, pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createEnrollmentProof,
  createSigner,
  exportPublicJwk,
  generateKeyPair,
} from '@peerfetch/crypto';
import pg from 'pg';
import { WebSocket } from 'ws';

const RUNS = String(process.env.BENCH_AGENTS ?? '1000,10000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
/** A comma-separated env list of allowed words (exits with a clear message otherwise). */
function listEnv(name, fallback, allowed) {
  const values = String(process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = values.find((v) => !allowed.includes(v));
  if (unknown !== undefined) {
    console.error(`${name}: unknown value ${unknown} (${allowed.join(', ')})`);
    process.exit(2);
  }
  return values;
}
const BROKERS = listEnv('BENCH_BROKER', 'aedes,mosquitto', ['aedes', 'mosquitto']);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
// 64 consoles: the registrar lets one socket send 50 messages/s (burst 100), and a
// signaling here is 3 messages (request, offer, hangup), so one console tops out at ~16/s.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SESSION_REQUESTS = listEnv('BENCH_SESSION_REQUEST', 'ws,rest', ['ws', 'rest']);
const PER_WORKER = Number(process.env.BENCH_AGENTS_PER_WORKER ?? 5000);
const ENROLL_CONCURRENCY = 32;
const ENROLL_HTTP = Number(process.env.BENCH_ENROLL ?? 200);
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL;
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const PASSWORD = 'benchmark password 1';
const appDir = join(import.meta.dirname, '..');
const outDir = join(appDir, '../../artifacts/bench');
const http = globalThis.fetch;
// The consoles' HTTP requests: node:http with keep-alive (a real request on a real socket,
// like fetch, at about a third of fetch's CPU: the load generator shares the cores).
const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });

/** One JSON request; resolves with the status and the parsed body (undefined if none). */
function jsonRequest(url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: keepAlive }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function fdLimit() {
  try {
    return Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
  } catch {
    return NaN;
  }
}

/** Resident set size of a process (kB → MiB), now and at its peak. */
function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/** CPU time (user + system) a process has used so far, ms (Linux clock ticks of 10 ms). */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A signaling step that takes over STEP_TIMEOUT_MS counts as a failure (never a hang). */
const STEP_TIMEOUT_MS = 10_000;
function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no reply in ${STEP_TIMEOUT_MS} ms`)),
      STEP_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

async function freshDatabase() {
  if (!POSTGRES_URL) return { url: DATABASE_URL, drop: async () => undefined };
  const name = `pf_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Inserts `count` enrolled devices like the HTTP-enrolled ones (own MQTT credentials). */
async function seedDevices(databaseUrl, enrolled, count) {
  const sample = enrolled[0];
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const [{ org_id: orgId, public_key_jwk: jwk }] = (
      await c.query('SELECT org_id::text, public_key_jwk FROM devices WHERE id = $1', [
        sample.deviceId,
      ])
    ).rows;
    for (let done = 0; done < count;) {
      const n = Math.min(2000, count - done);
      const ids = [];
      const names = [];
      const fingerprints = [];
      const hashes = [];
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        const password = randomBytes(32).toString('base64url');
        ids.push(id);
        names.push(`bench-${done + i}`);
        fingerprints.push(`bench-${id}`);
        hashes.push(createHash('sha256').update(password).digest('hex'));
        enrolled.push({ deviceId: id, url: sample.url, username: id, password });
      }
      await c.query(
        `INSERT INTO devices (org_id, id, name, public_key_jwk, key_fingerprint, agent_version,
                              mqtt_password_hash, updated_at)
         SELECT $1::uuid, unnest($2::uuid[]), unnest($3::text[]), $4::jsonb, unnest($5::text[]),
                'bench', unnest($6::text[]), now()`,
        [orgId, ids, names, JSON.stringify(jwk), fingerprints, hashes],
      );
      done += n;
    }
  } finally {
    await c.end();
  }
}

/**
 * Gives the devices `enrolled[from..]` (inserted by seedDevices) their Mosquitto accounts:
 * copies of the account and role the registrar provisioned for enrolled[0] over the
 * dynsec control topic, each with its own device id and password (PBKDF2-SHA512, as
 * Mosquitto stores it). Written into the plugin's file while the broker is stopped: one
 * control command per device would make the plugin rewrite its whole file 10,000 times.
 */
async function seedDynsec(broker, enrolled, from) {
  await broker.stop();
  const config = JSON.parse(readFileSync(broker.dynsecFile, 'utf8'));
  const sample = enrolled[0];
  const client = config.clients.find((c) => c.username === sample.username);
  const role = client && config.roles.find((r) => r.rolename === client.roles?.[0]?.rolename);
  if (!client || !role) throw new Error(`no dynsec account/role for ${sample.username}`);
  const template = JSON.stringify({ client, role });
  for (const e of enrolled.slice(from)) {
    const copy = JSON.parse(template.replaceAll(sample.deviceId, e.deviceId));
    const salt = randomBytes(12);
    const iterations = copy.client.iterations ?? 101;
    copy.client.username = e.username;
    copy.client.salt = salt.toString('base64');
    copy.client.iterations = iterations;
    copy.client.password = pbkdf2Sync(e.password, salt, iterations, 64, 'sha512').toString(
      'base64',
    );
    config.clients.push(copy.client);
    config.roles.push(copy.role);
  }
  writeFileSync(broker.dynsecFile, JSON.stringify(config));
  await broker.start();
}

/** A private Mosquitto with the Dynamic Security plugin (the tests' helper). */
async function startMosquitto(dir) {
  const { createDynsecBroker } = await import('../test/mosquitto-broker.ts');
  const broker = await createDynsecBroker(dir, {
    username: 'pf-bench-admin',
    password: randomBytes(24).toString('base64url'),
  });
  await broker.start();
  return broker;
}

/** The registrar as a child process; resolves with its URL once it listens. */
function startRegistrar(databaseUrl, dataDir, broker) {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.MQTT_URL;
  Object.assign(env, {
    PORT: '0',
    ...(broker
      ? {
          MQTT_URL: broker.url,
          MQTT_USERNAME: broker.admin.username,
          MQTT_PASSWORD: broker.admin.password,
          MQTT_PROVISIONING: 'dynsec',
        }
      : { MQTT_PORT: '0' }),
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
    ENROLL_RATE_LIMIT: '100000',
    // The simulated agents announce presence but send no heartbeats: without this, the
    // presence timeout (3 × 30 s + 10 s by default) would mark them offline mid-run.
    PRESENCE_TIMEOUT_HEARTBEATS: '100',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const profDir = join(outDir, 'profiles');
  if (CPU_PROF) mkdirSync(profDir, { recursive: true });
  const child = spawn(
    process.execPath,
    [...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), join(appDir, 'dist/main.js')],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout.resume();
        resolve({ child, url: m[1] });
      }
    });
    child.once('exit', (code) => reject(new Error(`registrar exited (${code}): ${out}`)));
  });
}

async function stopRegistrar(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function run(N, brokerKind) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pf-bench-'));
  const db = await freshDatabase();
  const broker = brokerKind === 'mosquitto' ? await startMosquitto(dataDir) : undefined;
  const { child, url: base } = await startRegistrar(db.url, dataDir, broker);
  const workers = [];
  const consoles = [];
  const call = async (method, path, body, token) => {
    const text = body ? JSON.stringify(body) : undefined;
    const { status, json } = await jsonRequest(
      `${base}${path}`,
      method,
      {
        ...(text ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      text,
    );
    if (status < 200 || status >= 300) {
      throw new Error(`${method} ${path}: ${status} ${JSON.stringify(json)}`);
    }
    return json;
  };
  const counter = async (name) => {
    const text = await (await http(`${base}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  };
  try {
    const rssStart = rssOf(child.pid);
    const { token } = await call('POST', '/api/auth/login', {
      email: 'admin@example.com',
      password: PASSWORD,
    });

    // 1. Enrollment of N agents.
    let t0 = performance.now();
    const enrolled = [];
    const viaHttp = db.url ? Math.min(N, ENROLL_HTTP) : N;
    let nextEnroll = 0;
    const progress = setInterval(
      () => process.stderr.write(`  enrolled ${enrolled.length}/${N}\n`),
      10_000,
    );
    await Promise.all(
      Array.from({ length: ENROLL_CONCURRENCY }, async () => {
        while (nextEnroll < viaHttp) {
          nextEnroll++;
          const { code } = await call('POST', '/api/claim-codes', {}, token);
          const { nonce } = await call('POST', '/api/enroll/challenge');
          const signer = createSigner(generateKeyPair());
          const proof = await createEnrollmentProof({ code, nonce, signer });
          const e = await call('POST', '/api/enroll', {
            code,
            nonce,
            ...proof,
            agentVersion: 'bench',
          });
          enrolled.push({ deviceId: e.deviceId, ...e.mqtt });
        }
      }),
    );
    clearInterval(progress);
    const enrollSeconds = (performance.now() - t0) / 1000;
    if (viaHttp < N) await seedDevices(db.url, enrolled, N - viaHttp);
    if (viaHttp < N && broker) await seedDynsec(broker, enrolled, viaHttp);
    process.stderr.write(
      `  enrolled ${viaHttp} over HTTP in ${enrollSeconds.toFixed(0)} s, ${N - viaHttp} inserted; connecting…\n`,
    );

    // 2. Agents connect over MQTT (worker processes), publish presence, answer offers.
    t0 = performance.now();
    const replies = [];
    for (let i = 0; i < N; i += PER_WORKER) {
      const w = fork(join(import.meta.dirname, 'agent-worker.mjs'), [], { stdio: 'inherit' });
      workers.push(w);
      replies.push(
        new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('exit', (code) => reject(new Error(`agent worker exited (${code})`)));
        }),
      );
      w.send({ type: 'connect', agents: enrolled.slice(i, i + PER_WORKER) });
    }
    const connectReports = await Promise.all(replies);
    const connectedClients = connectReports.reduce((s, r) => s + r.connected, 0);
    const connectFailures = connectReports.reduce((s, r) => s + r.failed, 0);
    const firstConnectError = connectReports.find((r) => r.firstError)?.firstError;
    // Presence as the registrar sees it (every retained "online" processed).
    let online = 0;
    const presenceDeadline = performance.now() + 120_000;
    while (performance.now() < presenceDeadline) {
      online = (await call('GET', '/api/devices?status=online&limit=1', undefined, token)).total;
      if (online >= connectedClients) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const connectSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const rssConnected = rssOf(child.pid);

    // 3. Signaling, once per session-request path (same registrar, same agents):
    // CONCURRENCY consoles, each in a loop: session grant, offer → answer, hangup.
    const signalPhase = async (mode) => {
      const sessionKey = exportPublicJwk(createSigner(generateKeyPair()).publicKey);
      const latencies = [];
      let failures = 0;
      let firstFailure;
      const devices = enrolled.slice(0, connectedClients > 0 ? enrolled.length : 0);
      const queries0 = await counter('registrar_db_queries_total');
      // CPU per signaling of each party: the registrar, this load generator, the agents.
      const cpu0 = {
        registrar: cpuMsOf(child.pid),
        load: process.cpuUsage(),
        agents: workers.reduce((s, w) => s + cpuMsOf(w.pid), 0),
        broker: broker ? cpuMsOf(broker.pid()) : 0,
      };
      const deadline = performance.now() + SECONDS * 1000;
      const loops = Array.from({ length: CONCURRENCY }, async () => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/api/signal`, {
          headers: { authorization: `Bearer ${token}` },
        });
        consoles.push(ws);
        const pending = new Map();
        const tickets = new Map();
        ws.on('message', (data) => {
          const m = JSON.parse(data.toString());
          if (m.type === 'answer') pending.get(m.sessionId)?.resolve();
          if (m.type === 'ticket') tickets.get(m.requestId)?.resolve(m);
          if (m.type === 'error') {
            // fails the step waiting for it (counted once, by the loop below)
            firstFailure ??= m;
            const error = new Error(`${m.code}: ${m.message}`);
            const ticket = m.requestId ? tickets.get(m.requestId) : undefined;
            if (ticket) ticket.reject(error);
            else for (const p of pending.values()) p.reject(error);
          }
        });
        let closed = false;
        ws.on('close', (code, reason) => {
          closed = true;
          const error = new Error(`signaling socket closed (${code} ${reason})`);
          for (const t of [...tickets.values(), ...pending.values()]) t.reject(error);
        });
        let requests = 0;
        /** A session grant: on the socket, or over REST (as the web console asks). */
        const requestTicket = (deviceId) => {
          if (mode === 'rest') {
            return call('POST', '/api/sessions', { deviceId, sessionKey }, token);
          }
          const requestId = String(++requests);
          return new Promise((resolve, reject) => {
            tickets.set(requestId, { resolve, reject });
            ws.send(JSON.stringify({ type: 'request', requestId, deviceId, sessionKey }));
          }).finally(() => tickets.delete(requestId));
        };
        await new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        while (performance.now() < deadline && devices.length > 0 && !closed) {
          const e = devices[Math.floor(Math.random() * devices.length)];
          const start = performance.now();
          let ticket;
          try {
            ticket = await withTimeout(requestTicket(e.deviceId), 'session request');
            const answered = new Promise((resolve, reject) =>
              pending.set(ticket.sessionId, { resolve, reject }),
            );
            ws.send(
              JSON.stringify({
                type: 'offer',
                deviceId: e.deviceId,
                grant: ticket.grant,
                sdp: 'v=0 offer',
              }),
            );
            await withTimeout(answered, 'answer');
          } catch (error) {
            failures++;
            firstFailure ??= { message: error.message };
            continue;
          } finally {
            if (ticket) pending.delete(ticket.sessionId);
          }
          ws.send(JSON.stringify({ type: 'hangup', sessionId: ticket.sessionId }));
          latencies.push(performance.now() - start);
        }
      });
      t0 = performance.now();
      await Promise.all(loops);
      const signalSeconds = (performance.now() - t0) / 1000;
      const loadCpu = process.cpuUsage(cpu0.load);
      const cpuMs = {
        registrar: cpuMsOf(child.pid) - cpu0.registrar,
        loadGenerator: (loadCpu.user + loadCpu.system) / 1000,
        agents: workers.reduce((s, w) => s + cpuMsOf(w.pid), 0) - cpu0.agents,
        ...(broker ? { broker: cpuMsOf(broker.pid()) - cpu0.broker } : {}),
      };
      latencies.sort((a, b) => a - b);
      await new Promise((r) => setTimeout(r, 300)); // let the audit buffer flush
      const queries = (await counter('registrar_db_queries_total')) - queries0;
      const rssEnd = rssOf(child.pid);
      const brokerRss = broker ? rssOf(broker.pid()) : undefined;
      const bytes = {
        ws:
          (await counter('registrar_ws_bytes_in_total')) +
          (await counter('registrar_ws_bytes_out_total')),
        mqtt:
          (await counter('registrar_mqtt_bytes_in_total')) +
          (await counter('registrar_mqtt_bytes_out_total')),
      };
      return {
        sessionRequest: mode === 'ws' ? 'signaling WebSocket' : 'POST /api/sessions',
        broker: brokerKind === 'mosquitto' ? 'Mosquitto 2 (dynsec), own process' : 'embedded aedes',
        agents: N,
        agentWorkers: workers.length,
        concurrency: CONCURRENCY,
        enrolledOverHttp: viaHttp,
        enrollPerSecond: viaHttp / enrollSeconds,
        connectedAgents: connectedClients,
        onlineAtRegistrar: online,
        connectFailures,
        ...(firstConnectError ? { firstConnectError } : {}),
        mqttConnectSeconds: connectSeconds,
        signalings: latencies.length,
        signalingsPerSecond: latencies.length / signalSeconds,
        latencyMs: {
          p50: percentile(latencies, 0.5),
          p95: percentile(latencies, 0.95),
          p99: percentile(latencies, 0.99),
        },
        failures,
        ...(firstFailure ? { firstFailure } : {}),
        dbQueriesPerSignaling: queries / Math.max(1, latencies.length),
        cpuMsPerSignaling: Object.fromEntries(
          Object.entries(cpuMs).map(([k, v]) => [k, v / Math.max(1, latencies.length)]),
        ),
        registrarRssMiB: {
          start: rssStart.rssMiB,
          connected: rssConnected.rssMiB,
          afterSignaling: rssEnd.rssMiB,
          peak: rssEnd.peakMiB,
        },
        ...(brokerRss ? { brokerRssMiB: { afterSignaling: brokerRss.rssMiB } } : {}),
        bytesPerSignaling: {
          ws: bytes.ws / Math.max(1, latencies.length),
          mqtt: bytes.mqtt / Math.max(1, latencies.length),
        },
      };
    };
    const results = [];
    for (const mode of SESSION_REQUESTS) {
      process.stderr.write(`  signaling (session requests: ${mode})…\n`);
      results.push(await signalPhase(mode));
      for (const ws of consoles.splice(0)) ws.terminate();
    }
    return results;
  } finally {
    for (const ws of consoles) ws.terminate();
    await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve) => {
            if (w.exitCode !== null) return resolve();
            w.once('exit', resolve);
            w.send({ type: 'stop' });
          }),
      ),
    );
    await stopRegistrar(child);
    await broker?.stop();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const limit = fdLimit();
const largest = Math.max(...RUNS);
if (Number.isFinite(limit) && limit < Math.min(largest, PER_WORKER) + 512) {
  console.error(
    `ulimit -n is ${limit}: too low for ${largest} agents (raise it: ulimit -n ${largest + 1024})`,
  );
  process.exit(2);
}

const runs = [];
for (const brokerKind of BROKERS) {
  for (const n of RUNS) {
    process.stderr.write(`registrar bench: ${n} agents, ${brokerKind}…\n`);
    runs.push(...(await run(n, brokerKind)));
  }
}
const result = {
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    fdLimit: limit,
  },
  database: POSTGRES_URL || DATABASE_URL ? 'postgresql' : 'pglite',
  seconds: SECONDS,
  runs,
};
console.log('\nregistrar signaling benchmark');
console.table(
  Object.fromEntries(
    runs.map((r) => [
      `${r.broker.startsWith('Mosquitto') ? 'mosquitto' : 'aedes'} ${r.sessionRequest.startsWith('POST') ? 'REST' : 'WS'} N=${r.agents}`,
      {
        'connected agents': r.connectedAgents,
        'online (registrar)': r.onlineAtRegistrar,
        'enroll/s': Number(r.enrollPerSecond.toFixed(1)),
        'connect (s)': Number(r.mqttConnectSeconds.toFixed(1)),
        'signalings/s': Number(r.signalingsPerSecond.toFixed(1)),
        'p50 (ms)': Number(r.latencyMs.p50.toFixed(1)),
        'p95 (ms)': Number(r.latencyMs.p95.toFixed(1)),
        'p99 (ms)': Number(r.latencyMs.p99.toFixed(1)),
        'DB queries/signaling': Number(r.dbQueriesPerSignaling.toFixed(2)),
        'registrar CPU ms/signaling': Number(r.cpuMsPerSignaling.registrar.toFixed(2)),
        'bench CPU ms/signaling': Number(r.cpuMsPerSignaling.loadGenerator.toFixed(2)),
        'agents CPU ms/signaling': Number(r.cpuMsPerSignaling.agents.toFixed(2)),
        'broker CPU ms/signaling': r.cpuMsPerSignaling.broker?.toFixed(2) ?? '(in registrar)',
        'RSS connected (MiB)': Math.round(r.registrarRssMiB.connected),
        'RSS peak (MiB)': Math.round(r.registrarRssMiB.peak),
        failures: r.failures,
      },
    ]),
  ),
);
// BENCH_OUT: another file (the root system benchmark runs this as one of its parts).
const outFile = process.env.BENCH_OUT ?? join(outDir, 'registrar.json');
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(result, null, 2));
if (runs.some((r) => r.failures > 0 || r.signalings === 0 || r.connectFailures > 0)) {
  process.exitCode = 1;
}
