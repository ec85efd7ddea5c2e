// MQTT on the embedded broker (aedes) with the real PostgreSQL: per-device credentials,
// topic isolation between devices, presence from retained status + last will, heartbeats,
// and the presence timeout for devices nobody hears from any more.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import {
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
} from './helpers.js';

let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let registrar: Registrar;
let api: Api;
const clients: MqttClient[] = [];

interface Creds {
  deviceId: string;
  url: string;
  username: string;
  password: string;
}

async function enroll(): Promise<Creds> {
  const code = await api.post('/api/claim-codes', {});
  const r = await newAgent().enroll(api, code.body.code);
  expect(r.status).toBe(201);
  return { deviceId: r.body.deviceId, ...r.body.mqtt };
}

/** The registrar's own account on its embedded broker (to read retained messages). */
const REGISTRAR_MQTT_PASSWORD = 'registrar-mqtt-password-for-tests';

const statusTopic = (id: string) => `pf/v1/dev/${id}/status`;

async function connect(c: Creds, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(c.url, {
    clientId: c.username,
    username: c.username,
    password: c.password,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic(c.username),
      payload: Buffer.from(JSON.stringify({ state: 'offline', agentVersion: '0.1.0-test', ts: 0 })),
      qos: 1,
      retain: true,
    },
    ...opts,
  });
  clients.push(client);
  return client;
}

/** Polls until `check` holds (bounded by the test timeout, no timing threshold asserted). */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

async function deviceStatus(id: string): Promise<string> {
  return (await api.get(`/api/devices/${id}`)).body.status;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    // presence timeout: 2 heartbeat intervals, no grace, swept every second
    PRESENCE_TIMEOUT_HEARTBEATS: '2',
    PRESENCE_GRACE_S: '0',
    PRESENCE_SWEEP_INTERVAL_S: '1',
    MQTT_PASSWORD: REGISTRAR_MQTT_PASSWORD,
  });
  api = await new Api(registrar.url).login();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

describe('MQTT credentials', () => {
  it('hands out the embedded broker URL and accepts the issued credentials', async () => {
    const c = await enroll();
    expect(c.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(c.url).not.toMatch(/:1883$/);
    const client = await connect(c);
    expect(client.connected).toBe(true);
    // The edge agent's client id convention is accepted too.
    const agentStyle = await connect(c, { clientId: `pf-agent-${c.deviceId}` });
    expect(agentStyle.connected).toBe(true);
  });

  it('refuses a wrong password, another device’s client id, and unknown users', async () => {
    const a = await enroll();
    const b = await enroll();
    await expect(connect(a, { password: 'wrong' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect(a, { clientId: b.deviceId })).rejects.toThrow(/Bad username or password/i);
    await expect(connect(a, { clientId: `pf-agent-${b.deviceId}` })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(connect(a, { clientId: 'anything-else' })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(connect(a, { username: b.deviceId, clientId: b.deviceId })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(
      connect(a, { username: 'pf-registrar', clientId: 'x', password: 'guess' }),
    ).rejects.toThrow(/Bad username or password/i);
    await expect(connect(a, { username: undefined, password: undefined })).rejects.toThrow();
  });

  it('a revoked device is disconnected and cannot reconnect', async () => {
    const c = await enroll();
    const client = await connect(c, { clientId: `pf-agent-${c.deviceId}` });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    expect((await api.post(`/api/devices/${c.deviceId}/revoke`, {})).status).toBe(200);
    await closed;
    await expect(connect(c)).rejects.toThrow(/Bad username or password/i);
  });
});

describe('topic isolation', () => {
  it('a device cannot subscribe to another device’s topics or to wildcards', async () => {
    const a = await enroll();
    const b = await enroll();
    const client = await connect(a);
    const own = await client.subscribeAsync(`pf/v1/dev/${a.deviceId}/signal/in`, { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    for (const filter of [
      `pf/v1/dev/${b.deviceId}/signal/in`,
      `pf/v1/dev/${b.deviceId}/signal/out`,
      `pf/v1/dev/+/signal/in`,
      `pf/v1/dev/#`,
      '#',
      `pf/v1/dev/${a.deviceId}/status`,
    ]) {
      // SUBACK 0x80 (failure): mqtt.js rejects with the granted QoS 128.
      await expect(client.subscribeAsync(filter, { qos: 1 }), filter).rejects.toMatchObject({
        packet: { granted: [128] },
      });
    }
  });

  it('a device that publishes to another device’s topic is cut off, and the message goes nowhere', async () => {
    const a = await enroll();
    const b = await enroll();
    const victim = await connect(b);
    await victim.subscribeAsync(`pf/v1/dev/${b.deviceId}/signal/in`, { qos: 1 });
    const received: string[] = [];
    victim.on('message', (_t, payload) => received.push(payload.toString()));

    const attacker = await connect(a);
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    attacker.publish(`pf/v1/dev/${b.deviceId}/signal/in`, '{"type":"offer","sdp":"evil"}', {
      qos: 1,
    });
    await closed;

    // Authorization runs before forwarding, so the message was dropped before the attacker
    // was cut off. A SUBACK round trip on B's connection flushes anything queued for B.
    await victim.subscribeAsync(`pf/v1/dev/${b.deviceId}/signal/in`, { qos: 1 });
    expect(received).toEqual([]);
  });

  it('a device may publish its own status, heartbeat, signal/out and audit', async () => {
    const a = await enroll();
    const client = await connect(a);
    for (const kind of ['status', 'heartbeat', 'signal/out', 'audit']) {
      await client.publishAsync(`pf/v1/dev/${a.deviceId}/${kind}`, '{}', { qos: 1 });
    }
    expect(client.connected).toBe(true);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(`pf/v1/dev/${a.deviceId}/signal/in`, '{}', { qos: 1 });
    await closed;
  });
});

describe('presence', () => {
  it('online from the retained status, offline from the last will when the link drops', async () => {
    const c = await enroll();
    expect(await deviceStatus(c.deviceId)).toBe('offline');
    const client = await connect(c);
    await client.publishAsync(
      statusTopic(c.deviceId),
      JSON.stringify({ state: 'online', agentVersion: '0.2.0', ts: Date.now() }),
      { qos: 1, retain: true },
    );
    await until(async () => (await deviceStatus(c.deviceId)) === 'online');
    const d = (await api.get(`/api/devices/${c.deviceId}`)).body;
    expect(d.agentVersion).toBe('0.2.0');
    expect(d.lastSeenAt).not.toBeNull();

    // Connection loss without DISCONNECT: the broker publishes the will.
    (client as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(async () => (await deviceStatus(c.deviceId)) === 'offline');
  });

  it('times out a silent device (counting its own heartbeat interval); a heartbeat revives it', async () => {
    const goOnline = async (c: Creds, heartbeatS: number) => {
      const client = await connect(c);
      await client.publishAsync(
        statusTopic(c.deviceId),
        JSON.stringify({ state: 'online', agentVersion: '0.2.0', ts: Date.now() }),
        { qos: 1, retain: true },
      );
      await client.publishAsync(
        `pf/v1/dev/${c.deviceId}/heartbeat`,
        JSON.stringify({ uptimeS: 1, heartbeatS }),
        { qos: 1 },
      );
      await until(async () => {
        const d = (await api.get(`/api/devices/${c.deviceId}`)).body;
        return d.status === 'online' && d.metrics?.heartbeatS === heartbeatS;
      });
      return client;
    };
    // Both stay connected but fall silent, and no last will is published (what a broker
    // that lost them in a crash looks like): `quick` announced a 1 s interval (timeout
    // 2 × 1 s), `slow` an hour (2 h).
    const quick = await enroll();
    const slow = await enroll();
    const quickClient = await goOnline(quick, 1);
    await goOnline(slow, 3600);
    const lastSeen = new Date((await api.get(`/api/devices/${quick.deviceId}`)).body.lastSeenAt);
    await until(async () => (await deviceStatus(quick.deviceId)) === 'offline');
    const q = (await api.get(`/api/devices/${quick.deviceId}`)).body;
    // nobody was seen: "last seen" stays what it was
    expect(new Date(q.lastSeenAt).getTime()).toBe(lastSeen.getTime());
    // the same sweep left the device that announced a long interval alone
    expect(await deviceStatus(slow.deviceId)).toBe('online');

    // the broker now holds a retained offline status for it, replacing the stale "online"
    const watcher = await mqtt.connectAsync(quick.url, {
      clientId: `pf-registrar-watch-${quick.deviceId}`,
      username: 'pf-registrar',
      password: REGISTRAR_MQTT_PASSWORD,
      reconnectPeriod: 0,
    });
    clients.push(watcher);
    const retained = new Promise<unknown>((resolve) =>
      watcher.on('message', (topic, payload, packet) => {
        if (topic === statusTopic(quick.deviceId) && packet.retain) {
          resolve(JSON.parse(payload.toString()));
        }
      }),
    );
    await watcher.subscribeAsync(statusTopic(quick.deviceId), { qos: 1 });
    expect(await retained).toMatchObject({ state: 'offline', reason: 'timeout' });

    // the device speaks again: its next heartbeat brings it back online
    await quickClient.publishAsync(
      `pf/v1/dev/${quick.deviceId}/heartbeat`,
      JSON.stringify({ uptimeS: 31, heartbeatS: 3600 }),
      { qos: 1 },
    );
    await until(async () => (await deviceStatus(quick.deviceId)) === 'online');
  });

  it('stores the heartbeat as the metrics snapshot, ignoring junk', async () => {
    const c = await enroll();
    const client = await connect(c);
    const topic = `pf/v1/dev/${c.deviceId}/heartbeat`;
    await client.publishAsync(topic, 'not json', { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ load1: 'high' }), { qos: 1 });
    await client.publishAsync(
      topic,
      JSON.stringify({
        ts: 1,
        uptimeS: 12,
        load1: 0.5,
        memUsedBytes: 10,
        memTotalBytes: 20,
        sessions: 1,
      }),
      { qos: 1 },
    );
    await until(async () => (await api.get(`/api/devices/${c.deviceId}`)).body.metrics !== null);
    expect((await api.get(`/api/devices/${c.deviceId}`)).body.metrics).toEqual({
      ts: 1,
      uptimeS: 12,
      load1: 0.5,
      memUsedBytes: 10,
      memTotalBytes: 20,
      sessions: 1,
    });
  });

  it('records the agent request log in the audit, dropping malformed batches', async () => {
    const c = await enroll();
    const client = await connect(c);
    const topic = `pf/v1/dev/${c.deviceId}/audit`;
    await client.publishAsync(topic, JSON.stringify({ events: [{ ts: 1, user: 'x' }] }), {
      qos: 1,
    });
    const event = {
      ts: 2,
      sessionId: 's1',
      user: 'u1',
      method: 'GET',
      path: '/clips/a.mp4',
      status: 206,
      bytes: 1024,
    };
    await client.publishAsync(topic, JSON.stringify({ events: [event] }), { qos: 1 });
    const items = async () =>
      (await api.get(`/api/audit?action=device.request&targetId=${c.deviceId}`)).body.items;
    await until(async () => (await items()).length > 0);
    const [recorded] = await items();
    expect(recorded).toMatchObject({
      actorType: 'user',
      actorId: 'u1',
      targetId: c.deviceId,
      details: {
        sessionId: 's1',
        method: 'GET',
        path: '/clips/a.mp4',
        status: 206,
        bytes: 1024,
        deviceTs: 2,
      },
    });
    expect(await items()).toHaveLength(1);
  });

  it('a revoked device stays revoked whatever it publishes', async () => {
    const c = await enroll();
    const client = await connect(c);
    await api.post(`/api/devices/${c.deviceId}/revoke`, {});
    await new Promise<void>((resolve) =>
      client.connected ? client.once('close', () => resolve()) : resolve(),
    );
    expect(await deviceStatus(c.deviceId)).toBe('revoked');
  });
});
