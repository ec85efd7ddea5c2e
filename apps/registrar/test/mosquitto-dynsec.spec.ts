// MQTT_PROVISIONING=dynsec against a real Mosquitto 2.0 with the Dynamic Security plugin,
// started for this file (test/mosquitto-broker.ts; anonymous access off) and the real
// PostgreSQL: full enrollment (claim code → agent proof → device record → MQTT credentials
// the broker accepts), topic isolation between devices enforced by Mosquitto itself,
// presence and signaling through it, revocation and deletion removing the account, and
// enrollment refused — code still usable — when the broker does not confirm.
// Fails (never skips) when mosquitto, its plugin or PostgreSQL are missing.
import { createSigner, exportPublicJwk, generateKeyPair } from '@peerfetch/crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Registrar } from '../src/app.js';
import { deviceAcls, deviceRoleName } from '../src/mqtt/dynsec.js';
import { createDynsecBroker, type DynsecBroker } from './mosquitto-broker.js';
import {
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
} from './helpers.js';

const ADMIN = { username: 'pf-registrar', password: 'registrar-admin-password-for-tests' };

let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let broker: DynsecBroker;
let registrar: Registrar;
let api: Api;
const clients: MqttClient[] = [];

interface Creds {
  deviceId: string;
  url: string;
  username: string;
  password: string;
}

function registrarEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    MQTT_URL: broker.url,
    MQTT_USERNAME: ADMIN.username,
    MQTT_PASSWORD: ADMIN.password,
    MQTT_PROVISIONING: 'dynsec',
    MQTT_PROVISIONING_TIMEOUT_MS: '2000',
    // presence timeout: 2 heartbeat intervals, no grace, swept every second
    PRESENCE_TIMEOUT_HEARTBEATS: '2',
    PRESENCE_GRACE_S: '0',
    PRESENCE_SWEEP_INTERVAL_S: '1',
    ...extra,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  broker = await createDynsecBroker(dir.path, ADMIN);
  await broker.start();
  registrar = await startRegistrar(registrarEnv());
  api = await new Api(registrar.url).login();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  try {
    await registrar?.close();
  } finally {
    await broker?.stop();
    await db?.drop();
    await dir?.remove();
  }
});

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

async function newCode(): Promise<{ id: string; code: string }> {
  const r = await api.post('/api/claim-codes', {});
  expect(r.status).toBe(201);
  return r.body;
}

async function enroll(): Promise<Creds> {
  const r = await newAgent().enroll(api, (await newCode()).code);
  expect(r.status, r.text).toBe(201);
  return { deviceId: r.body.deviceId, ...r.body.mqtt };
}

/** Connects like the edge agent (client id pf-agent-<id>, last will on its status). */
async function connect(c: Creds, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(c.url, {
    clientId: `pf-agent-${c.deviceId}`,
    username: c.username,
    password: c.password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    will: {
      topic: `pf/v1/dev/${c.deviceId}/status`,
      payload: Buffer.from(JSON.stringify({ state: 'offline', ts: 0 })),
      qos: 1,
      retain: true,
    },
    ...opts,
  });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

/** The CONNACK refusal code of a connection attempt (null: it was accepted). */
async function refusal(c: Creds, opts: IClientOptions = {}): Promise<number | null> {
  try {
    const client = await connect(c, opts);
    await client.endAsync(true);
    return null;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

/** The SUBACK outcome of one subscription: granted QoS, or 128 (refused). */
async function subscribeResult(client: MqttClient, filter: string): Promise<number> {
  try {
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    return granted[0]?.qos ?? -1;
  } catch (error) {
    return (error as { packet?: { granted?: number[] } }).packet?.granted?.[0] ?? -1;
  }
}

/** Asks the broker's dynsec plugin directly, as the admin (what the broker holds). */
async function dynsec(command: Record<string, unknown>): Promise<any> {
  const admin = await mqtt.connectAsync(broker.url, {
    username: ADMIN.username,
    password: ADMIN.password,
    reconnectPeriod: 0,
  });
  try {
    await admin.subscribeAsync('$CONTROL/dynamic-security/v1/response', { qos: 1 });
    const answer = new Promise<any>((resolve) =>
      admin.on('message', (_t, p) => resolve(JSON.parse(p.toString()).responses[0])),
    );
    await admin.publishAsync(
      '$CONTROL/dynamic-security/v1',
      JSON.stringify({ commands: [command] }),
      { qos: 1 },
    );
    return await answer;
  } finally {
    await admin.endAsync(true);
  }
}

/** Everything the broker delivers for pf/v1/dev/#, seen by an admin observer. */
async function observe(): Promise<Array<{ topic: string; payload: string }>> {
  const seen: Array<{ topic: string; payload: string }> = [];
  const observer = await mqtt.connectAsync(broker.url, {
    username: ADMIN.username,
    password: ADMIN.password,
    reconnectPeriod: 0,
  });
  clients.push(observer);
  observer.on('message', (topic, p) => seen.push({ topic, payload: p.toString() }));
  await observer.subscribeAsync('pf/v1/dev/#', { qos: 1 });
  return seen;
}

async function device(id: string): Promise<any> {
  return (await api.get(`/api/devices/${id}`)).body;
}

async function openConsole(): Promise<{ ws: WebSocket; messages: any[] }> {
  const ws = new WebSocket(`${registrar.url.replace('http', 'ws')}/api/signal`, {
    headers: { authorization: `Bearer ${api.token}` },
  });
  const messages: any[] = [];
  ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  return { ws, messages };
}

async function offer(
  console_: { ws: WebSocket },
  deviceId: string,
): Promise<{ sessionId: string }> {
  const ticket = await api.post('/api/sessions', {
    deviceId,
    sessionKey: exportPublicJwk(createSigner(generateKeyPair()).publicKey),
  });
  expect(ticket.status, ticket.text).toBe(201);
  console_.ws.send(
    JSON.stringify({ type: 'offer', deviceId, grant: ticket.body.grant, sdp: `v=0 ${deviceId}` }),
  );
  return { sessionId: ticket.body.sessionId };
}

async function codeRow(id: string): Promise<Record<string, unknown> | undefined> {
  const rows = await db.sql('SELECT used_at, used_by_device FROM claim_codes WHERE id = $1', [id]);
  return rows[0];
}

async function deviceCount(): Promise<number> {
  return (await db.sql<{ n: number }>('SELECT count(*)::int AS n FROM devices'))[0]?.n ?? -1;
}

describe('Mosquitto dynamic security: per-device accounts', () => {
  it('enrollment creates an account Mosquitto accepts with exactly the minted credentials', async () => {
    const a = await enroll();
    const b = await enroll();
    expect(a.url).toBe(broker.url);
    expect(a.username).toBe(a.deviceId);

    const client = await connect(a);
    expect(client.connected).toBe(true);
    // CONNACK 5 (not authorized) for a wrong password, with 3.1.1 and 5 (reason 135) alike
    expect(await refusal(a, { password: 'wrong' })).toBe(5);
    expect(await refusal(a, { password: 'wrong', protocolVersion: 5 })).toBe(135);
    // the account is bound to the agent's client id: no taking over B's session
    expect(await refusal(a, { clientId: `pf-agent-${b.deviceId}` })).toBe(5);
    expect(await refusal(a, { clientId: a.deviceId })).toBe(5);
    expect(await refusal({ ...a, username: 'nobody' })).toBe(5);
    expect(client.connected).toBe(true);

    // what the broker holds: client a with role pf-device-a, whose ACLs are a's topics
    const got = await dynsec({ command: 'getClient', username: a.deviceId });
    expect(got.data.client).toMatchObject({
      username: a.deviceId,
      clientid: `pf-agent-${a.deviceId}`,
      roles: [{ rolename: deviceRoleName(a.deviceId) }],
      groups: [],
    });
    const role = await dynsec({ command: 'getRole', rolename: deviceRoleName(a.deviceId) });
    const sortAcls = (acls: any[]) =>
      acls
        .map((x) => `${x.acltype} ${x.topic} ${x.allow} ${x.priority}`)
        .sort()
        .join('\n');
    expect(sortAcls(role.data.role.acls)).toBe(sortAcls(deviceAcls(a.deviceId)));
  });

  it('isolates devices: A can neither read B’s signaling nor publish on B’s topics; presence and relay work', async () => {
    const a = await enroll();
    const b = await enroll();
    const seen = await observe();
    const clientA = await connect(a);
    const clientB = await connect(b);
    const inboxA: Array<{ topic: string; m: any }> = [];
    const inboxB: Array<{ topic: string; m: any }> = [];
    clientA.on('message', (topic, p) => inboxA.push({ topic, m: JSON.parse(p.toString()) }));
    clientB.on('message', (topic, p) => inboxB.push({ topic, m: JSON.parse(p.toString()) }));

    // Subscriptions: each device its own signal/in only; SUBACK 128 for anything else.
    expect(await subscribeResult(clientB, `pf/v1/dev/${b.deviceId}/signal/in`)).toBe(1);
    expect(await subscribeResult(clientA, `pf/v1/dev/${a.deviceId}/signal/in`)).toBe(1);
    for (const filter of [
      `pf/v1/dev/${b.deviceId}/signal/in`,
      `pf/v1/dev/${b.deviceId}/status`,
      'pf/v1/dev/+/signal/in',
      `pf/v1/dev/${a.deviceId}/#`,
      '#',
      '$CONTROL/dynamic-security/v1/response',
    ]) {
      expect(await subscribeResult(clientA, filter), filter).toBe(128);
    }

    // Presence through Mosquitto (retained status).
    const online = (id: string) =>
      JSON.stringify({ state: 'online', agentVersion: '0.3.0', ts: Date.now(), id });
    await clientB.publishAsync(`pf/v1/dev/${b.deviceId}/status`, online(b.deviceId), {
      qos: 1,
      retain: true,
    });
    await clientA.publishAsync(`pf/v1/dev/${a.deviceId}/status`, online(a.deviceId), {
      qos: 1,
      retain: true,
    });
    await until(async () => (await device(b.deviceId)).status === 'online');
    await until(async () => (await device(a.deviceId)).status === 'online');

    // A forges on B's topics: status offline (retained), a heartbeat, an answer.
    const console_ = await openConsole();
    const toB = await offer(console_, b.deviceId);
    await until(() => inboxB.length > 0);
    expect(inboxB[0]).toMatchObject({
      topic: `pf/v1/dev/${b.deviceId}/signal/in`,
      m: { type: 'offer', sessionId: toB.sessionId, sdp: `v=0 ${b.deviceId}` },
    });
    await clientA.publishAsync(
      `pf/v1/dev/${b.deviceId}/status`,
      JSON.stringify({ state: 'offline', ts: Date.now() }),
      { qos: 1, retain: true },
    );
    await clientA.publishAsync(
      `pf/v1/dev/${b.deviceId}/heartbeat`,
      JSON.stringify({ uptimeS: 666 }),
      { qos: 1 },
    );
    await clientA.publishAsync(
      `pf/v1/dev/${b.deviceId}/signal/out`,
      JSON.stringify({ type: 'answer', sessionId: toB.sessionId, sdp: 'v=0 forged by A' }),
      { qos: 1 },
    );
    await clientA.publishAsync(
      '$CONTROL/dynamic-security/v1',
      JSON.stringify({
        commands: [{ command: 'createClient', username: 'made-by-a', password: 'x' }],
      }),
      { qos: 1 },
    );
    // Barrier: A's own heartbeat, published after the forgeries on the same connection.
    // Mosquitto keeps one publisher's order, so once the registrar and the observer have
    // it, any forgery that got through would have arrived before.
    await clientA.publishAsync(
      `pf/v1/dev/${a.deviceId}/heartbeat`,
      JSON.stringify({ uptimeS: 4242 }),
      { qos: 1 },
    );
    await until(async () => (await device(a.deviceId)).metrics?.uptimeS === 4242);
    await until(() => seen.some((s) => s.payload.includes('4242')));
    const onB = seen.filter((s) => s.topic.startsWith(`pf/v1/dev/${b.deviceId}/`));
    expect(onB.map((s) => s.topic)).toEqual([
      `pf/v1/dev/${b.deviceId}/status`,
      `pf/v1/dev/${b.deviceId}/signal/in`,
    ]);
    expect(JSON.parse(onB[0]?.payload ?? '{}')).toMatchObject({ state: 'online' });
    const bNow = await device(b.deviceId);
    expect(bNow.status).toBe('online');
    expect(bNow.metrics?.uptimeS).toBeUndefined();
    expect(console_.messages.filter((m) => m.type === 'answer')).toEqual([]);
    expect((await dynsec({ command: 'getClient', username: 'made-by-a' })).error).toBe(
      'Client not found',
    );
    // A late subscriber still gets B's own retained status, not A's forgery.
    const late = await observe();
    await until(() => late.some((s) => s.topic === `pf/v1/dev/${b.deviceId}/status`));
    expect(
      JSON.parse(late.find((s) => s.topic.endsWith(`${b.deviceId}/status`))!.payload),
    ).toMatchObject({
      state: 'online',
    });

    // A's inbox: only what was sent to A. An offer for A, after B's, arrives alone.
    const toA = await offer(console_, a.deviceId);
    await until(() => inboxA.length > 0);
    expect(inboxA).toEqual([
      {
        topic: `pf/v1/dev/${a.deviceId}/signal/in`,
        m: expect.objectContaining({ type: 'offer', sessionId: toA.sessionId }),
      },
    ]);
    expect(JSON.stringify(inboxA)).not.toContain(b.deviceId);
    expect(JSON.stringify(inboxA)).not.toContain(toB.sessionId);

    // B's real answer is relayed to the console.
    await clientB.publishAsync(
      `pf/v1/dev/${b.deviceId}/signal/out`,
      JSON.stringify({ type: 'answer', sessionId: toB.sessionId, sdp: 'v=0 answer from B' }),
      { qos: 1 },
    );
    await until(() => console_.messages.some((m) => m.type === 'answer'));
    expect(console_.messages.filter((m) => m.type === 'answer')).toEqual([
      expect.objectContaining({ sessionId: toB.sessionId, sdp: 'v=0 answer from B' }),
    ]);
    console_.ws.close();

    // Connection loss: Mosquitto publishes B's last will (allowed: its own status).
    (clientB as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(async () => (await device(b.deviceId)).status === 'offline');
    expect((await device(a.deviceId)).status).toBe('online');
  });

  it('presence timeout: Mosquitto lets the registrar replace a silent device’s retained online', async () => {
    const c = await enroll();
    const client = await connect(c);
    const topic = `pf/v1/dev/${c.deviceId}/status`;
    await client.publishAsync(topic, JSON.stringify({ state: 'online', ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
    // one heartbeat announcing a 1 s interval, then silence without a last will (a broker
    // restart that lost it): offline after 2 s
    await client.publishAsync(
      `pf/v1/dev/${c.deviceId}/heartbeat`,
      JSON.stringify({ uptimeS: 1, heartbeatS: 1 }),
      { qos: 1 },
    );
    await until(async () => (await device(c.deviceId)).status === 'online');
    await until(async () => (await device(c.deviceId)).status === 'offline');
    // what a replica starting now reads from the broker: the registrar's status, not "online"
    const seen = await observe();
    await until(() => seen.some((m) => m.topic === topic));
    expect(JSON.parse(seen.find((m) => m.topic === topic)?.payload ?? '{}')).toMatchObject({
      state: 'offline',
      reason: 'timeout',
    });
  });

  it('presence timeout: a registrar cut off from the broker judges nobody until it is back', async () => {
    const c = await enroll();
    const client = await connect(c);
    await client.publishAsync(
      `pf/v1/dev/${c.deviceId}/status`,
      JSON.stringify({ state: 'online', ts: Date.now() }),
      { qos: 1, retain: true },
    );
    await client.publishAsync(
      `pf/v1/dev/${c.deviceId}/heartbeat`,
      JSON.stringify({ uptimeS: 1, heartbeatS: 1 }),
      { qos: 1 },
    );
    await until(async () => (await device(c.deviceId)).metrics?.heartbeatS === 1);
    await broker.kill(); // a crash: no will
    // Hearing nobody says nothing about the devices (another replica may hear them): three
    // sweeps past the device's 2 s timeout leave it alone.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await device(c.deviceId)).status).toBe('online');
    await broker.start();
    // Back (and the broker lost the device, no will): offline one full timeout later.
    await until(async () => (await device(c.deviceId)).status === 'offline');
  });

  it('revocation and deletion remove the account: Mosquitto disconnects the device and refuses it', async () => {
    const a = await enroll();
    const b = await enroll();
    const clientA = await connect(a);
    const clientB = await connect(b);
    const closedA = new Promise<void>((resolve) => clientA.once('close', () => resolve()));
    const closedB = new Promise<void>((resolve) => clientB.once('close', () => resolve()));

    const revoked = await api.post(`/api/devices/${a.deviceId}/revoke`, { reason: 'lost' });
    expect(revoked.status).toBe(200);
    await closedA;
    expect(await refusal(a)).toBe(5);
    expect((await dynsec({ command: 'getClient', username: a.deviceId })).error).toBe(
      'Client not found',
    );
    expect((await dynsec({ command: 'getRole', rolename: deviceRoleName(a.deviceId) })).error).toBe(
      'Role not found',
    );

    expect((await api.delete(`/api/devices/${b.deviceId}`)).status).toBe(204);
    await closedB;
    expect(await refusal(b)).toBe(5);
    expect((await dynsec({ command: 'getClient', username: b.deviceId })).error).toBe(
      'Client not found',
    );

    const audit = (await api.get('/api/audit')).body.items as any[];
    expect(
      audit.find((e) => e.action === 'device.revoke_key' && e.targetId === a.deviceId).details,
    ).toMatchObject({ brokerAccount: 'removed', reason: 'lost' });
    expect(
      audit.find((e) => e.action === 'device.delete' && e.targetId === b.deviceId).details,
    ).toMatchObject({ brokerAccount: 'removed' });
  });

  it('refuses to start with an account that is not a dynsec admin', async () => {
    // a plain client, and one that may read the answers but not send commands
    expect(
      (await dynsec({ command: 'createClient', username: 'plain', password: 'plain-password' }))
        .error,
    ).toBeUndefined();
    await expect(
      startRegistrar(registrarEnv({ MQTT_USERNAME: 'plain', MQTT_PASSWORD: 'plain-password' })),
    ).rejects.toThrow(
      /MQTT_PROVISIONING=dynsec: .*\(NOT_ADMIN\).*must be a dynamic-security admin/,
    );

    await dynsec({
      command: 'createRole',
      rolename: 'reader',
      acls: [
        { acltype: 'subscribePattern', topic: '$CONTROL/dynamic-security/#', allow: true },
        { acltype: 'publishClientReceive', topic: '$CONTROL/dynamic-security/#', allow: true },
      ],
    });
    await dynsec({
      command: 'createClient',
      username: 'reader',
      password: 'reader-password',
      roles: [{ rolename: 'reader' }],
    });
    await expect(
      startRegistrar(
        registrarEnv({
          MQTT_USERNAME: 'reader',
          MQTT_PASSWORD: 'reader-password',
          MQTT_PROVISIONING_TIMEOUT_MS: '500',
        }),
      ),
    ).rejects.toThrow(/\(TIMEOUT\): no answer from Mosquitto's dynamic-security plugin/);
  });

  it('a broker that hangs: enrollment refused with 503, nothing enrolled, the code still works', async () => {
    const code = await newCode();
    const agent = newAgent();
    const devicesBefore = await deviceCount();
    broker.pause();
    let r;
    try {
      r = await agent.enroll(api, code.code);
    } finally {
      broker.resume();
    }
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ code: 'MQTT_PROVISIONING_FAILED' });
    expect(r.text).not.toMatch(/password/i);
    expect(await deviceCount()).toBe(devicesBefore);
    expect(await codeRow(code.id)).toMatchObject({ used_at: null, used_by_device: null });

    const again = await agent.enroll(api, code.code);
    expect(again.status, again.text).toBe(201);
    const creds = { deviceId: again.body.deviceId, ...again.body.mqtt };
    expect(await refusal(creds)).toBeNull();
    const refused = (await api.get('/api/audit?action=device.enroll_refused')).body.items as any[];
    expect(refused.some((e) => e.details.reason === 'mqtt_provisioning:TIMEOUT')).toBe(true);
  });

  it('a broker that is down: enrollment refused with 503; a revocation meanwhile is applied when it is back', async () => {
    const victim = await enroll();
    expect(await refusal(victim)).toBeNull();
    const code = await newCode();
    const agent = newAgent();
    const devicesBefore = await deviceCount();

    await broker.stop();
    await until(async () => (await fetch(`${registrar.url}/ready`)).status === 503);
    const r = await agent.enroll(api, code.code);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ code: 'MQTT_PROVISIONING_FAILED' });
    expect(await deviceCount()).toBe(devicesBefore);
    expect(await codeRow(code.id)).toMatchObject({ used_at: null, used_by_device: null });
    const refused = (await api.get('/api/audit?action=device.enroll_refused')).body.items as any[];
    expect(refused.some((e) => e.details.reason === 'mqtt_provisioning:BROKER_UNAVAILABLE')).toBe(
      true,
    );
    // revoking while the broker is away: done in the registrar, the account is pending
    const revoked = await api.post(`/api/devices/${victim.deviceId}/revoke`, {});
    expect(revoked.status).toBe(200);
    const audit = (await api.get('/api/audit?action=device.revoke_key')).body.items as any[];
    expect(audit.find((e) => e.targetId === victim.deviceId).details).toMatchObject({
      brokerAccount: 'pending',
    });

    await broker.start();
    await until(async () => (await fetch(`${registrar.url}/ready`)).status === 200);
    // the sweep after the reconnect removes the revoked device's account
    await until(async () => (await refusal(victim)) === 5);
    // and the same claim code enrolls
    const again = await agent.enroll(api, code.code);
    expect(again.status, again.text).toBe(201);
    expect(await refusal({ deviceId: again.body.deviceId, ...again.body.mqtt })).toBeNull();
    expect(await codeRow(code.id)).toMatchObject({ used_by_device: again.body.deviceId });
  });
});
