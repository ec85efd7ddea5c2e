// The external-broker path against the machine's real Mosquitto (MQTT_URL) without
// provisioning (MQTT_PROVISIONING=none, an anonymous broker): the registrar client,
// presence from retained status + last will, and the signaling relay. Fails (never skips)
// when Mosquitto is unreachable. Per-device accounts and topic isolation on Mosquitto
// (MQTT_PROVISIONING=dynsec, a private broker with the dynamic-security plugin):
// test/mosquitto-dynsec.spec.ts.
import { createSigner, exportPublicJwk, generateKeyPair } from '@peerfetch/crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Registrar } from '../src/app.js';
import {
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
  testService,
} from './helpers.js';

const MOSQUITTO_URL = testService('PEERFETCH_TEST_MQTT_URL');
let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let registrar: Registrar;
let api: Api;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    MQTT_URL: MOSQUITTO_URL,
  });
  api = await new Api(registrar.url).login();
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

describe('external broker: Mosquitto', () => {
  it('enrolls with the broker URL, tracks presence and relays signaling through Mosquitto', async () => {
    const code = await api.post('/api/claim-codes', {});
    const enrolled = await newAgent().enroll(api, code.body.code);
    const { deviceId, mqtt: creds } = enrolled.body;
    expect(creds.url).toBe(MOSQUITTO_URL);
    expect(await (await fetch(`${registrar.url}/ready`)).json()).toMatchObject({
      mqtt: 'connected',
    });

    const agent = await mqtt.connectAsync(creds.url, {
      clientId: creds.username,
      username: creds.username,
      password: creds.password,
      reconnectPeriod: 0,
      will: {
        topic: `pf/v1/dev/${deviceId}/status`,
        payload: Buffer.from(JSON.stringify({ state: 'offline', ts: 0 })),
        qos: 1,
        retain: true,
      },
    });
    const inbox: any[] = [];
    agent.on('message', (_t, p) => inbox.push(JSON.parse(p.toString())));
    await agent.subscribeAsync(`pf/v1/dev/${deviceId}/signal/in`, { qos: 1 });
    await agent.publishAsync(
      `pf/v1/dev/${deviceId}/status`,
      JSON.stringify({ state: 'online', agentVersion: '0.3.0', ts: Date.now() }),
      { qos: 1, retain: true },
    );
    await until(async () => (await api.get(`/api/devices/${deviceId}`)).body.status === 'online');

    // Signaling: console WebSocket → registrar → Mosquitto → agent, and back.
    const ticket = await api.post('/api/sessions', {
      deviceId,
      sessionKey: exportPublicJwk(createSigner(generateKeyPair()).publicKey),
    });
    const ws = new WebSocket(`${registrar.url.replace('http', 'ws')}/api/signal`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    const fromRegistrar: any[] = [];
    ws.on('message', (d: Buffer) => fromRegistrar.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'offer', deviceId, grant: ticket.body.grant, sdp: 'v=0' }));
    await until(() => inbox.length > 0);
    expect(inbox[0]).toMatchObject({ type: 'offer', sessionId: ticket.body.sessionId });
    await agent.publishAsync(
      `pf/v1/dev/${deviceId}/signal/out`,
      JSON.stringify({ type: 'answer', sessionId: ticket.body.sessionId, sdp: 'v=0 answer' }),
      { qos: 1 },
    );
    await until(() => fromRegistrar.some((m) => m.type === 'answer'));
    ws.close();

    // Connection loss: Mosquitto publishes the last will, the registrar records offline.
    (agent as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(async () => (await api.get(`/api/devices/${deviceId}`)).body.status === 'offline');
    // Clean up the retained messages this test left on the shared broker.
    const cleaner = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0 });
    await cleaner.publishAsync(`pf/v1/dev/${deviceId}/status`, '', { qos: 1, retain: true });
    await cleaner.endAsync();
  });
});
