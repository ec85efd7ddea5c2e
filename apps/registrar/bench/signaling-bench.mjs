#!/usr/bin/env node
// `npm run bench -w @peerfetch/registrar`: N simulated agents enroll and connect over MQTT,
// then consoles request sessions and signal (POST /api/sessions + offer over the WebSocket
// + the agent's answer back) for a fixed time. Prints a table and writes
// artifacts/bench/registrar.json. Loopback only; stops by itself.
//
// BENCH_AGENTS (200), BENCH_SECONDS (10), BENCH_CONCURRENCY (16), BENCH_DATABASE_URL
// (default: embedded PGlite in a temporary directory). Target from the issue: 10,000 agents,
// ≥ 500 signalings/s (a PostgreSQL server and more cores than this CI machine's two).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createEnrollmentProof,
  createSigner,
  exportPublicJwk,
  generateKeyPair,
} from '@peerfetch/crypto';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { createRegistrar } from '../dist/app.js';
import { loadConfig } from '../dist/config/config.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const http = globalThis.fetch;

const dataDir = mkdtempSync(join(tmpdir(), 'pf-bench-'));
const password = 'benchmark password 1';
const registrar = await createRegistrar(
  loadConfig({
    PORT: '0',
    MQTT_PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    DATABASE_URL: process.env.BENCH_DATABASE_URL,
    BOOTSTRAP_ADMIN_PASSWORD: password,
    ENROLL_RATE_LIMIT: '100000',
  }),
);
const base = registrar.url;

async function call(method, path, body, token) {
  const res = await http(`${base}${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const agents = [];
const consoles = [];
try {
  const { token } = await call('POST', '/api/auth/login', { email: 'admin@example.com', password });

  // 1. Enrollment of N agents.
  let t0 = performance.now();
  const enrolled = [];
  for (let i = 0; i < AGENTS; i += CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONCURRENCY, AGENTS - i) }, async () => {
      const { code } = await call('POST', '/api/claim-codes', {}, token);
      const { nonce } = await call('POST', '/api/enroll/challenge');
      const signer = createSigner(generateKeyPair());
      const proof = await createEnrollmentProof({ code, nonce, signer });
      return call('POST', '/api/enroll', { code, nonce, ...proof, agentVersion: 'bench' });
    });
    enrolled.push(...(await Promise.all(batch)));
  }
  const enrollSeconds = (performance.now() - t0) / 1000;

  // 2. Agents connect over MQTT and answer every offer.
  t0 = performance.now();
  for (let i = 0; i < enrolled.length; i += 50) {
    const batch = enrolled.slice(i, i + 50).map(async (e) => {
      const client = await mqtt.connectAsync(e.mqtt.url, {
        clientId: e.mqtt.username,
        username: e.mqtt.username,
        password: e.mqtt.password,
        reconnectPeriod: 0,
      });
      const out = `pf/v1/dev/${e.deviceId}/signal/out`;
      client.on('message', (_topic, payload) => {
        const m = JSON.parse(payload.toString());
        if (m.type === 'offer') {
          client.publish(
            out,
            JSON.stringify({ type: 'answer', sessionId: m.sessionId, sdp: 'v=0 answer' }),
            { qos: 1 },
          );
        }
      });
      await client.subscribeAsync(`pf/v1/dev/${e.deviceId}/signal/in`, { qos: 1 });
      await client.publishAsync(
        `pf/v1/dev/${e.deviceId}/status`,
        JSON.stringify({ state: 'online', ts: Date.now() }),
        {
          qos: 1,
          retain: true,
        },
      );
      agents.push(client);
    });
    await Promise.all(batch);
  }
  const connectSeconds = (performance.now() - t0) / 1000;

  // 3. Signaling: CONCURRENCY consoles, each in a loop: session grant + offer → answer.
  const sessionKey = exportPublicJwk(createSigner(generateKeyPair()).publicKey);
  const latencies = [];
  let failures = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/signal`, {
      headers: { authorization: `Bearer ${token}` },
    });
    consoles.push(ws);
    const pending = new Map();
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type === 'answer') pending.get(m.sessionId)?.();
      if (m.type === 'error') failures++;
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    while (performance.now() < deadline) {
      const e = enrolled[Math.floor(Math.random() * enrolled.length)];
      const start = performance.now();
      const ticket = await call(
        'POST',
        '/api/sessions',
        { deviceId: e.deviceId, sessionKey },
        token,
      );
      const answered = new Promise((resolve) => pending.set(ticket.sessionId, resolve));
      ws.send(
        JSON.stringify({
          type: 'offer',
          deviceId: e.deviceId,
          grant: ticket.grant,
          sdp: 'v=0 offer',
        }),
      );
      await answered;
      pending.delete(ticket.sessionId);
      ws.send(JSON.stringify({ type: 'hangup', sessionId: ticket.sessionId }));
      latencies.push(performance.now() - start);
    }
  });
  t0 = performance.now();
  await Promise.all(workers);
  const signalSeconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);

  const metrics = await (await http(`${base}/metrics`)).text();
  const counter = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? 0);
  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    database: process.env.BENCH_DATABASE_URL ? 'postgresql' : 'pglite',
    agents: AGENTS,
    concurrency: CONCURRENCY,
    enrollPerSecond: AGENTS / enrollSeconds,
    mqttConnectSeconds: connectSeconds,
    signalings: latencies.length,
    signalingsPerSecond: latencies.length / signalSeconds,
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
      p99: percentile(latencies, 0.99),
    },
    failures,
    bytesPerSignaling: {
      ws:
        (counter('registrar_ws_bytes_in_total') + counter('registrar_ws_bytes_out_total')) /
        Math.max(1, latencies.length),
      mqtt:
        (counter('registrar_mqtt_bytes_in_total') + counter('registrar_mqtt_bytes_out_total')) /
        Math.max(1, latencies.length),
    },
  };
  console.log('\nregistrar signaling benchmark');
  console.table({
    agents: result.agents,
    'enrollments/s': result.enrollPerSecond.toFixed(1),
    'MQTT connect (s)': result.mqttConnectSeconds.toFixed(2),
    'signalings/s': result.signalingsPerSecond.toFixed(1),
    'latency p50 (ms)': result.latencyMs.p50.toFixed(1),
    'latency p95 (ms)': result.latencyMs.p95.toFixed(1),
    failures: result.failures,
    'WS bytes / signaling': result.bytesPerSignaling.ws.toFixed(0),
    'MQTT bytes / signaling': result.bytesPerSignaling.mqtt.toFixed(0),
  });
  const outDir = join(import.meta.dirname, '../../../artifacts/bench');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'registrar.json'), JSON.stringify(result, null, 2));
  if (failures > 0 || latencies.length === 0) process.exitCode = 1;
} finally {
  for (const ws of consoles) ws.terminate();
  await Promise.all(agents.map((c) => c.endAsync(true).catch(() => undefined)));
  await registrar.close();
  rmSync(dataDir, { recursive: true, force: true });
}
