// The edge agent against the REAL registrar and a REAL Mosquitto: a fresh PostgreSQL
// database (unix socket), a private Mosquitto 2 with the Dynamic Security plugin (anonymous
// access off), the registrar process (apps/registrar/dist/main.js) provisioning each device's
// own broker account into it (MQTT_PROVISIONING=dynsec), the agent process
// (`node dist/cli.js run`, enrolled with a claim code from the admin API), the demo upstream,
// and node-datachannel consoles that sign in, ask for sessions and signal over the
// registrar's WebSocket like the browser console. The registrar's embedded broker (the
// `npm start` default) is what no-payload.spec.ts and the console's end-to-end tests run on.
//
// Runs inside the loopback-only namespace (scripts/netns-run.sh, vitest.system.config.ts).
// Bounds below are resource bounds or hang detection, never speed thresholds; the one
// exception is the issue's own requirement that SIGTERM exits within 5 s.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPublicJwk, generateKeyPair, importPrivateJwk, signGrant } from '@peerfetch/crypto';
import mqtt, { type MqttClient } from 'mqtt';
import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticFile } from '../../src/demo/synthetic.js';
import { startDemoUpstream } from '../../src/demo/upstream.js';
import { IDENTITY_FILE } from '../../src/identity.js';
import { readAgentState } from '../../src/state.js';
import { buildAgent } from '../support/build.js';
import { type Broker, startMosquitto } from '../support/mosquitto.js';
import {
  type AgentProcess,
  Api,
  type ConsoleSession,
  type RegistrarProcess,
  type TestDatabase,
  createDatabase,
  fdCount,
  openSession,
  registrarMqtt,
  rssBytes,
  startAgent,
  startRegistrar,
  waitFor,
} from './harness.js';

// Only inside the namespace: the `test` script's plain `vitest run` (first step) also
// matches test/**/*.spec.ts; this suite runs in its own step through netns-run.sh.
const inNetns = process.env['PEERFETCH_IN_NETNS'] === '1';
const CLIP_SIZE = 200 * 1024 * 1024;
const CLIP = 'big.bin';
/** Allowed RSS growth of the agent over 100 session open/close cycles. */
const RSS_GROWTH_BOUND = 24 * 1024 * 1024;
/** Allowed growth of the agent's open file descriptors over the same cycles. */
const FD_GROWTH_BOUND = 4;

/** The registrar's account on the broker: a dynsec admin (it provisions the devices). */
const BROKER_ADMIN = { username: 'pf-registrar', password: 'agent-system-broker-admin-Passw0rd' };

let root: string;
let db: TestDatabase;
let broker: Broker;
let registrar: RegistrarProcess;
let api: Api;
let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
let agent: AgentProcess;
let deviceId: string;
let clipSha: string;
let clipPath: string;
let claimCode: string;
const closers: Array<() => unknown> = [];

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fileSlice(start: number, length: number): Promise<Buffer> {
  const fh = await open(clipPath, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, start);
    return buf;
  } finally {
    await fh.close();
  }
}

async function session(options: Parameters<typeof openSession>[2] = {}): Promise<ConsoleSession> {
  const s = await openSession(api, deviceId, options);
  closers.push(() => s.close());
  return s;
}

async function hashBody(res: Response): Promise<{ sha: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    bytes += value.byteLength;
  }
  return { sha: hash.digest('hex'), bytes };
}

beforeAll(async () => {
  if (!inNetns) return;
  const cli = buildAgent();
  root = mkdtempSync(join(tmpdir(), 'agent-sys-'));
  mkdirSync(join(root, 'clips'));
  clipPath = join(root, 'clips', CLIP);
  clipSha = await writeSyntheticFile(clipPath, CLIP_SIZE, 7);
  db = await createDatabase();
  broker = await startMosquitto({ dynsec: BROKER_ADMIN });
  registrar = await startRegistrar(
    db.url,
    join(root, 'registrar'),
    {},
    {
      external: { broker, admin: BROKER_ADMIN },
    },
  );
  api = await new Api(registrar.url).login();
  upstream = await startDemoUpstream({ name: 'cam-sys', port: 0 });
  claimCode = await api.claimCode('cam-sys');
  agent = startAgent(cli, {
    REGISTRAR_URL: registrar.url,
    CLAIM_CODE: claimCode,
    DEVICE_NAME: 'cam-sys',
    DATA_DIR: join(root, 'agent'),
    CLIPS_DIR: join(root, 'clips'),
    UPSTREAM_ORIGINS: upstream.url,
    ICE_BIND_ADDRESS: '127.0.0.1',
    HEARTBEAT_INTERVAL_S: '5',
    MAX_SESSIONS: '16',
    LOG_LEVEL: 'info',
  });
});

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  agent?.child.kill('SIGKILL');
  await registrar?.stop('SIGKILL');
  await broker?.kill();
  await upstream?.close();
  await db?.drop();
  if (root) rmSync(root, { recursive: true, force: true });
  nodeDataChannel.cleanup();
});

describe.skipIf(!inNetns)('edge agent ⇄ real registrar ⇄ Mosquitto', () => {
  it('enrolls with the claim code, gets its own broker account and appears online', async () => {
    const device = await waitFor('device enrolled and online', async () =>
      (await api.devices()).find((d) => d.name === 'cam-sys' && d.status === 'online'),
    );
    deviceId = device.id;
    expect(deviceId).toMatch(/^[0-9a-f-]{36}$/);
    // the claim code was used and is never printed
    expect(agent.output()).not.toContain(claimCode);

    // the agent stored the Mosquitto URL and its own account (file 0600), never printed it
    const identityPath = join(root, 'agent', IDENTITY_FILE);
    const identity = JSON.parse(readFileSync(identityPath, 'utf8')) as {
      mqtt: { url: string; username: string; password: string };
    };
    expect(identity.mqtt.url).toBe(broker.url);
    expect(identity.mqtt.username).toBe(deviceId);
    expect(statSync(identityPath).mode & 0o777).toBe(0o600);
    expect(agent.output()).not.toContain(identity.mqtt.password);
    // Mosquitto itself refuses anonymous clients and the account under another client id
    const connectFails = (options: mqtt.IClientOptions) =>
      mqtt
        .connectAsync(broker.url, { ...options, reconnectPeriod: 0, connectTimeout: 5_000 })
        .then(async (c) => {
          await c.endAsync(true);
          return 'connected';
        })
        .catch((e: unknown) => (e as Error).message);
    expect(await connectFails({ clientId: `pf-agent-${deviceId}` })).toMatch(/Not authorized/i);
    expect(
      await connectFails({
        clientId: `pf-agent-${randomUUID()}`,
        username: identity.mqtt.username,
        password: identity.mqtt.password,
      }),
    ).toMatch(/Not authorized/i);
  });

  it('serves /api/hello through the allow-listed proxy and refuses other upstreams', async () => {
    const s = await session();
    const hello = await s.client.fetch('http://localhost:8778/api/hello');
    expect(hello.status).toBe(200);
    expect(await hello.json()).toMatchObject({ message: 'hello from cam-sys' });
    const info = (await (await s.client.fetch('/_agent/info')).json()) as { deviceId: string };
    expect(info.deviceId).toBe(deviceId);

    const other = await s.client.fetch('/api/hello', {
      headers: { 'x-peerfetch-upstream': 'http://127.0.0.1:1' },
    });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: { code: 'UPSTREAM_NOT_ALLOWED' } });
    await s.close();
  });

  it('streams a 200 MiB clip: Range reads and a full read, SHA-256 identical', async () => {
    const s = await session();
    const url = `/_agent/clips/${CLIP}`;
    const ranges: Array<[number, number]> = [
      [0, 1024 * 1024 - 1],
      [CLIP_SIZE / 2 - 12_345, CLIP_SIZE / 2 + 3 * 1024 * 1024],
      [CLIP_SIZE - 777, CLIP_SIZE - 1],
    ];
    for (const [start, end] of ranges) {
      const res = await s.client.fetch(url, { headers: { range: `bytes=${start}-${end}` } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${CLIP_SIZE}`);
      const body = new Uint8Array(await res.arrayBuffer());
      expect(body.byteLength).toBe(end - start + 1);
      expect(sha256(body)).toBe(sha256(await fileSlice(start, end - start + 1)));
    }
    const suffix = await s.client.fetch(url, { headers: { range: 'bytes=-4096' } });
    expect(suffix.status).toBe(206);
    expect(sha256(new Uint8Array(await suffix.arrayBuffer()))).toBe(
      sha256(await fileSlice(CLIP_SIZE - 4096, 4096)),
    );
    const full = await s.client.fetch(url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-length')).toBe(String(CLIP_SIZE));
    expect(await hashBody(full)).toEqual({ sha: clipSha, bytes: CLIP_SIZE });
    await s.close();
  });

  it('a viewer may read but not write', async () => {
    const s = await session({ role: 'viewer' });
    expect((await s.client.fetch('/_agent/health')).status).toBe(200);
    const post = await s.client.fetch('/api/hello', { method: 'POST', body: '{}' });
    expect(post.status).toBe(403);
    // refused by the agent's role check, not by the upstream
    expect(await post.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    await s.close();
  });

  it('refuses unsigned, expired and foreign grants (registrar relay and agent itself)', async () => {
    const registrarKey = importPrivateJwk(
      JSON.parse(readFileSync(join(registrar.dataDir, 'registrar-key.jwk'), 'utf8')),
    );
    const sessionKey = exportPublicJwk(generateKeyPair().publicKey);
    const claims = {
      issuer: 'peerfetch-registrar',
      userId: 'mallory',
      deviceId,
      orgId: 'org',
      role: 'admin' as const,
      sessionKey,
    };
    const foreignKey = await signGrant(claims, generateKeyPair());
    const expired = await signGrant(
      { ...claims, now: Date.now() - 3_600_000, ttlSeconds: 60 },
      registrarKey,
    );
    const otherDevice = await signGrant({ ...claims, deviceId: randomUUID() }, registrarKey);
    const [h, p] = foreignKey.split('.');
    const unsigned = `${h}.${p}.`;

    // 1. through the registrar: it verifies the grant before relaying anything
    for (const grant of [foreignKey, expired, unsigned]) {
      await expect(session({ grant })).rejects.toMatchObject({
        signal: { type: 'error', code: 'GRANT_INVALID' },
      });
    }

    // 2. straight to the agent's signal/in as the registrar (a compromised or buggy relay):
    // the agent verifies with the key it pinned at enrollment and answers an error
    const mq: MqttClient = await registrarMqtt(registrar);
    closers.push(() => mq.endAsync(true));
    const base = `pf/v1/dev/${deviceId}`;
    const out: Array<{ type?: string; sessionId?: string; reason?: string }> = [];
    mq.on('message', (t, payload) => {
      try {
        if (t === `${base}/signal/out`) out.push(JSON.parse(payload.toString()) as never);
      } catch {
        // not JSON: not from the agent
      }
    });
    await mq.subscribeAsync(`${base}/signal/out`, { qos: 1 });
    const offerSdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
    const cases = { foreignKey, expired, otherDevice, unsigned };
    for (const [name, grant] of Object.entries(cases)) {
      const sessionId = randomUUID();
      await mq.publishAsync(
        `${base}/signal/in`,
        JSON.stringify({ type: 'offer', sessionId, sdp: offerSdp, grant, iceServers: [] }),
        { qos: 1 },
      );
      const reply = await waitFor(`agent refusal (${name})`, () =>
        out.find((m) => m.sessionId === sessionId),
      );
      expect(reply.type, name).toBe('error');
      expect(reply.reason, name).toMatch(/GRANT|EXPIRED|SIGNATURE|MALFORMED|AUDIENCE/);
      expect(out.some((m) => m.sessionId === sessionId && m.type === 'answer')).toBe(false);
    }
  });

  it('bad input gets clear errors and the agent keeps serving other sessions', async () => {
    const keep = await session();
    expect((await keep.client.fetch('/_agent/health')).status).toBe(200);

    // malformed offers on the WebSocket: the registrar refuses them
    const bad = await session({ handshake: false }).catch((e: unknown) => e);
    expect(bad).not.toBeInstanceOf(Error);
    const ws = (bad as ConsoleSession).signal;
    ws.send({ type: 'offer', deviceId, grant: 42 });
    const refusal = await waitFor('VALIDATION_FAILED', () =>
      ws.seen.find((m) => m['type'] === 'error' && m['code'] === 'VALIDATION_FAILED'),
    );
    expect(refusal['message']).toBeTruthy();
    // garbage on the channel before the handshake: the agent drops that session
    const badDc = (bad as ConsoleSession).dc;
    const closed = new Promise<void>((r) => badDc.onClosed(() => r()));
    badDc.sendMessageBinary(Buffer.from('\x00\xffthis is not a handshake frame\x00'.repeat(8)));
    await closed;

    // malformed offers straight onto signal/in: dropped, agent alive
    const mq = await registrarMqtt(registrar);
    closers.push(() => mq.endAsync(true));
    const base = `pf/v1/dev/${deviceId}`;
    await mq.publishAsync(`${base}/signal/in`, 'not json {', { qos: 1 });
    await mq.publishAsync(`${base}/signal/in`, JSON.stringify({ type: 'offer' }), { qos: 1 });
    await mq.publishAsync(
      `${base}/signal/in`,
      JSON.stringify({ type: 'offer', sessionId: randomUUID(), sdp: 'garbage', grant: 'x' }),
      { qos: 1 },
    );

    // `..` paths, encoded separators, unknown routes, huge headers
    for (const path of [
      '/_agent/clips/..%2F..%2Fetc%2Fpasswd',
      '/_agent/clips/%2e%2e',
      '/_agent/clips/.hidden',
      '/_agent/clips/nope.mp4',
      '/_agent/nope',
    ]) {
      const res = await keep.client.fetch(path);
      expect([400, 404], path).toContain(res.status);
      const body = (await res.json()) as { error?: { code?: string } };
      expect(body.error?.code, path).toBeTruthy();
    }
    const huge = await keep.client
      .fetch('/_agent/health', { headers: { 'x-huge': 'a'.repeat(256 * 1024) } })
      .then((r) => r.status)
      .catch((e: unknown) => (e as Error).name);
    expect(huge === 'TypeError' || (typeof huge === 'number' && huge >= 400)).toBe(true);

    // the other session and new sessions still work
    const after = await keep.client.fetch('http://localhost/api/hello');
    expect(after.status).toBe(200);
    const fresh = await session();
    expect((await fresh.client.fetch('/_agent/health')).status).toBe(200);
    await fresh.close();
    await keep.close();
    expect(agent.child.exitCode).toBeNull();
  });

  it('releases everything after 100 session open/close cycles', async () => {
    const pid = agent.child.pid as number;
    // warm-up, then a baseline after the allocator settled
    for (let i = 0; i < 5; i++) {
      const s = await openSession(api, deviceId);
      await (await s.client.fetch('/_agent/health')).text();
      await s.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    const rss0 = rssBytes(pid);
    const fd0 = fdCount(pid);
    for (let i = 0; i < 100; i += 4) {
      await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const s = await openSession(api, deviceId);
          const r = await s.client.fetch('/_agent/health');
          expect(r.status).toBe(200);
          await r.text();
          await s.close();
        }),
      );
    }
    // sessions close asynchronously on the agent side (hangup over MQTT); the state file
    // (rewritten every heartbeat) reports the live count
    const mark = Date.now();
    await waitFor('all cycled sessions released', async () => {
      const st = await readAgentState(join(root, 'agent'));
      return st !== undefined && st !== null && st.updatedAt > mark && st.sessions === 0;
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const rss1 = rssBytes(pid);
    const fd1 = fdCount(pid);
    console.log(
      `100 cycles: RSS ${(rss0 / 2 ** 20).toFixed(1)} → ${(rss1 / 2 ** 20).toFixed(1)} MiB, fds ${fd0} → ${fd1}`,
    );
    expect(rss1 - rss0).toBeLessThan(RSS_GROWTH_BOUND);
    expect(fd1 - fd0).toBeLessThanOrEqual(FD_GROWTH_BOUND);
  });

  it('survives a broker crash: reconnects with backoff, presence recovers', async () => {
    await broker.kill();
    // Agent and registrar both lose their connection and no last will is published (the
    // registrar, hearing nobody, does not judge the device either: mosquitto-dynsec.spec.ts
    // of apps/registrar); the device counts as back once the registrar hears from it.
    await new Promise((r) => setTimeout(r, 1_500));
    const restartedAt = Date.now();
    await broker.start();
    await waitFor(
      'device online again after the broker restart',
      async () => {
        const d = await api.device(deviceId);
        return d?.status === 'online' && Date.parse(d.lastSeenAt ?? '0') >= restartedAt;
      },
      90_000,
    );
    const s = await session();
    expect((await s.client.fetch('http://localhost/api/hello')).status).toBe(200);
    await s.close();
    expect(agent.output()).toMatch(/mqtt disconnected; reconnecting/);
    expect(agent.child.exitCode).toBeNull();
  });

  it('survives a registrar crash: presence recovers, sessions work again', async () => {
    const before = await api.device(deviceId);
    expect(before?.status).toBe('online');
    await registrar.stop('SIGKILL');
    const restartedAt = Date.now();
    await registrar.start();
    const dev = await waitFor(
      'device online again after the restart',
      async () => {
        const d = await api.device(deviceId);
        return d?.status === 'online' &&
          d.lastSeenAt !== null &&
          Date.parse(d.lastSeenAt) >= restartedAt
          ? d
          : undefined;
      },
      90_000,
    );
    expect(dev.status).toBe('online');
    const s = await session();
    expect((await s.client.fetch('http://localhost/api/hello')).status).toBe(200);
    await s.close();
    expect(agent.child.exitCode).toBeNull();
  });

  it('survives a graceful registrar restart too', async () => {
    await registrar.stop('SIGTERM');
    const restartedAt = Date.now();
    await registrar.start();
    await waitFor(
      'device online again',
      async () => {
        const d = await api.device(deviceId);
        return d?.status === 'online' && Date.parse(d.lastSeenAt ?? '0') >= restartedAt;
      },
      90_000,
    );
    const s = await session();
    expect((await s.client.fetch('/_agent/health')).status).toBe(200);
    await s.close();
  });

  it('SIGTERM with sessions open: exits 0 within 5 s and goes offline', async () => {
    const a = await session();
    const b = await session();
    expect((await a.client.fetch('/_agent/health')).status).toBe(200);
    expect((await b.client.fetch('/_agent/health')).status).toBe(200);
    const t0 = Date.now();
    agent.child.kill('SIGTERM');
    const result = await Promise.race([
      agent.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5_000)),
    ]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    // the agent hung up on the console and told the registrar it is offline
    await waitFor('hangup relayed', () =>
      a.signal.seen.some((m) => m['type'] === 'hangup' && m['sessionId'] === a.sessionId),
    );
    await waitFor('device offline', async () => (await api.device(deviceId))?.status === 'offline');
  });
});
