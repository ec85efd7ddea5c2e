// MQTT link against real brokers: the machine's Mosquitto on 127.0.0.1:1883 (the test fails,
// never skips, when it is absent) and a private Mosquitto child with per-device credentials
// and ACLs that the test kills and restarts.
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { MqttLink, type MqttLinkOptions } from '../src/mqtt/link.js';
import type { SignalIn } from '../src/mqtt/topics.js';
import { type Broker, canConnect, startMosquitto, waitFor } from './support/mosquitto.js';
import { observe } from './support/observer.js';

const SHARED = 'mqtt://127.0.0.1:1883';

function heartbeat(sessions = 0) {
  return () =>
    Promise.resolve({
      ts: Date.now(),
      uptimeS: 1,
      load1: 0,
      memUsedBytes: 1,
      memTotalBytes: 2,
      diskFreeBytes: 3,
      agentVersion: '0.1.0-test',
      sessions,
    });
}

function makeLink(
  url: string,
  deviceId: string,
  password: string,
  extra: Partial<MqttLinkOptions> = {},
): { link: MqttLink; signals: SignalIn[] } {
  const signals: SignalIn[] = [];
  const link = new MqttLink({
    url,
    username: deviceId,
    password,
    deviceId,
    agentVersion: '0.1.0-test',
    heartbeatIntervalMs: 200,
    collectHeartbeat: heartbeat(2),
    onSignal: (m) => {
      signals.push(m);
      if (m.sessionId === 'explode') throw new Error('handler bug');
    },
    log: silentLogger(),
    backoff: { initialMs: 100, maxMs: 400 },
    connectTimeoutMs: 2000,
    ...extra,
  });
  return { link, signals };
}

const clientOf = (link: MqttLink): MqttClient => (link as unknown as { client: MqttClient }).client;

describe('MqttLink on the machine Mosquitto (127.0.0.1:1883)', () => {
  const deviceId = randomUUID();
  const base = `pf/v1/dev/${deviceId}`;

  beforeAll(async () => {
    if (!(await canConnect(1883))) {
      throw new Error('Mosquitto is not reachable on 127.0.0.1:1883 (required by this test)');
    }
  });

  afterAll(async () => {
    // leave no retained status behind on the shared broker
    const o = await observe(SHARED, `${base}/#`);
    await o.client.publishAsync(`${base}/status`, '', { retain: true, qos: 1 });
    await o.close();
  });

  it('presence, heartbeat, signals, last will on abrupt loss, reconnect, clean stop', async () => {
    const obs = await observe(SHARED, `${base}/#`);
    const { link, signals } = makeLink(SHARED, deviceId, 'unused-on-anonymous-broker');
    link.start();
    await waitFor('link online', () => link.state === 'online');

    // a late subscriber gets the retained online status
    const late = await observe(SHARED, `${base}/status`);
    const retained = await late.waitFor(
      'retained online',
      (m) => m.retain && m.json?.['state'] === 'online',
    );
    expect(retained.json).toMatchObject({ state: 'online', agentVersion: '0.1.0-test' });
    await late.close();

    const hb = await obs.waitFor('heartbeat', (m) => m.topic === `${base}/heartbeat`);
    expect(hb.json).toMatchObject({ sessions: 2, agentVersion: '0.1.0-test', diskFreeBytes: 3 });
    // the interval (200 ms here, at least 1 s announced) for the registrar's presence timeout
    expect(hb.json).toMatchObject({ heartbeatS: 1 });

    // malformed signals are dropped; a handler that throws does not crash anything
    await obs.client.publishAsync(`${base}/signal/in`, 'not json', { qos: 1 });
    await obs.client.publishAsync(`${base}/signal/in`, JSON.stringify({ type: 'offer' }), {
      qos: 1,
    });
    await obs.client.publishAsync(
      `${base}/signal/in`,
      JSON.stringify({ type: 'hangup', sessionId: 'explode' }),
      { qos: 1 },
    );
    const offer = {
      type: 'offer',
      sessionId: 's-1',
      sdp: 'v=0\r\n',
      grant: 'h.p.s',
      iceServers: [{ urls: ['stun:127.0.0.1:3478'] }],
    };
    await obs.client.publishAsync(`${base}/signal/in`, JSON.stringify(offer), { qos: 1 });
    await waitFor('offer delivered', () => signals.find((s) => s.sessionId === 's-1'));
    expect(signals.map((s) => s.sessionId)).toEqual(['explode', 's-1']);
    expect(signals[1]).toEqual(offer);

    await link.publishSignal({ type: 'answer', sessionId: 's-1', sdp: 'v=0 answer' });
    await obs.waitFor(
      'answer',
      (m) => m.topic === `${base}/signal/out` && m.json?.['type'] === 'answer',
    );
    await link.publishAudit([{ seq: 1 }]);
    await obs.waitFor('audit', (m) => m.topic === `${base}/audit`);

    // abrupt loss: the broker publishes the will (retained offline), then the link reconnects
    const mark = obs.seen.length;
    clientOf(link).stream.destroy();
    const will = await obs.waitFor(
      'last will',
      (m) => m.topic === `${base}/status` && m.json?.['state'] === 'offline',
      mark,
    );
    expect(will.json).toMatchObject({ state: 'offline', agentVersion: '0.1.0-test' });
    const willAt = obs.seen.indexOf(will);
    await obs.waitFor(
      'online again',
      (m) => m.topic === `${base}/status` && m.json?.['state'] === 'online',
      willAt + 1,
    );
    await waitFor('link online again', () => link.state === 'online');
    const hbAfter = obs.seen.length;
    await obs.waitFor('heartbeat after reconnect', (m) => m.topic === `${base}/heartbeat`, hbAfter);

    // clean stop leaves a retained offline
    await link.stop();
    expect(link.state).toBe('stopped');
    const after = await observe(SHARED, `${base}/status`);
    await after.waitFor('retained offline', (m) => m.retain && m.json?.['state'] === 'offline');
    await after.close();
    await obs.close();
  });
});

describe('MqttLink on a private Mosquitto (credentials, ACL, broker restart)', () => {
  const deviceId = randomUUID();
  const base = `pf/v1/dev/${deviceId}`;
  let broker: Broker;
  const registrar = { username: 'registrar', password: 'registrar-pw' };

  beforeAll(async () => {
    broker = await startMosquitto({
      users: { [deviceId]: 'device-pw', registrar: registrar.password },
      acl: [
        `user ${deviceId}`,
        `topic write ${base}/status`,
        `topic write ${base}/heartbeat`,
        `topic write ${base}/signal/out`,
        `topic write ${base}/audit`,
        `topic read ${base}/signal/in`,
        '',
        'user registrar',
        'topic readwrite pf/v1/#',
        '',
      ].join('\n'),
    });
  });

  afterAll(async () => {
    await broker.stop();
  });

  it('keeps retrying with backoff when its credentials are refused', async () => {
    const { link } = makeLink(broker.url, deviceId, 'wrong-password');
    const states: string[] = [];
    link.on('state', (s) => states.push(s));
    link.start();
    await waitFor('three refused attempts', () => link.failedAttempts >= 3);
    expect(states).not.toContain('online');
    await link.stop();
  });

  it('reconnects after the broker is killed and restarted', async () => {
    const obs = await observe(broker.url, `${base}/#`, registrar);
    const { link } = makeLink(broker.url, deviceId, 'device-pw');
    link.start();
    await waitFor('online', () => link.state === 'online');
    await obs.waitFor('heartbeat', (m) => m.topic === `${base}/heartbeat`);
    await obs.close();

    await broker.kill();
    await waitFor('link offline', () => link.state !== 'online');
    await waitFor('a failed attempt while the broker is down', () => link.failedAttempts >= 2);
    await broker.start();
    await waitFor('online after restart', () => link.state === 'online');

    const again = await observe(broker.url, `${base}/#`, registrar);
    await again.waitFor(
      'retained online after restart',
      (m) => m.retain && m.json?.['state'] === 'online',
    );
    const mark = again.seen.length;
    await again.waitFor('heartbeat after restart', (m) => m.topic === `${base}/heartbeat`, mark);
    await link.stop();
    await again.waitFor(
      'offline on stop',
      (m) => m.topic === `${base}/status` && m.json?.['state'] === 'offline',
      mark,
    );
    await again.close();
  });
});
