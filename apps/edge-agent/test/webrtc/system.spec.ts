// The whole agent as a process (`node dist/cli.js run`, container env) inside the
// loopback-only namespace: a private Mosquitto, a fake registrar (enrollment via CLAIM_CODE
// on first run), the demo upstream, and a console-side node-datachannel peer signalling
// through MQTT as the registrar would. Checks presence, an end-to-end peer-http request
// through the allow-listed proxy, the audit sync, and SIGTERM with a session open.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  consoleHandshake,
  createSigner,
  generateKeyPair,
  parseSdpFingerprint,
  signGrant,
} from '@peerfetch/crypto';
import {
  type Transport,
  createPeerFetch,
  nodeDataChannelTransport,
} from '@peerfetch/peer-http/node';
import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream } from '../../src/demo/upstream.js';
import { readAgentState } from '../../src/state.js';
import { buildAgent } from '../support/build.js';
import { type FakeRegistrar, startFakeRegistrar } from '../support/fake-registrar.js';
import { type Broker, startMosquitto, waitFor } from '../support/mosquitto.js';
import { type Observer, observe } from '../support/observer.js';

const CODE = 'CLAIM-SYSTEM-1';
let cli: string;
let broker: Broker;
let registrar: FakeRegistrar;
let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
let agent: ChildProcess;
let exited: Promise<number | null>;
let stderr = '';

beforeAll(async () => {
  cli = buildAgent();
  broker = await startMosquitto();
  registrar = await startFakeRegistrar({ code: CODE, mqttUrl: broker.url });
  upstream = await startDemoUpstream({ name: 'cam-system', port: 0 });
});

afterAll(async () => {
  agent?.kill('SIGKILL');
  await upstream?.close();
  await registrar?.close();
  await broker?.stop();
  nodeDataChannel.cleanup();
});

describe('edge-agent run (process) over MQTT signaling and WebRTC', () => {
  it('enrolls, goes online, serves a session end to end, syncs audit, stops on SIGTERM', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-system-'));
    mkdirSync(join(root, 'clips'));
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      DATA_DIR: join(root, 'data'),
      CLIPS_DIR: join(root, 'clips'),
      REGISTRAR_URL: registrar.url,
      CLAIM_CODE: CODE,
      DEVICE_NAME: 'cam-system',
      UPSTREAM_ORIGINS: upstream.url,
      ICE_BIND_ADDRESS: '127.0.0.1',
      HEARTBEAT_INTERVAL_S: '5',
      LOG_LEVEL: 'info',
    };
    agent = spawn(process.execPath, [cli, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    agent.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    exited = new Promise((r) => agent.once('exit', (code) => r(code)));
    await waitFor(
      'agent online',
      async () => (await readAgentState(env.DATA_DIR))?.mqtt === 'online',
    );
    const deviceId = registrar.enrolled.at(-1)?.deviceId as string;
    const base = `pf/v1/dev/${deviceId}`;
    const obs: Observer = await observe(broker.url, `${base}/#`);
    await obs.waitFor('retained online', (m) => m.retain && m.json?.['state'] === 'online');

    // --- the console side, signalling through the broker like the registrar relays it
    const sessionId = randomUUID();
    const sessionPair = generateKeyPair();
    // the fake registrar's grant key is what the agent pinned at enrollment
    const grant = await signGrant(
      {
        issuer: 'fake',
        userId: 'alice',
        deviceId,
        orgId: 'org-test',
        role: 'operator',
        sessionKey: sessionPair.publicKey,
      },
      registrar.signingKey,
    );
    const pc = new nodeDataChannel.PeerConnection('console', {
      iceServers: [],
      bindAddress: '127.0.0.1',
    });
    let remoteSet = false;
    const pending: { candidate: string; mid: string }[] = [];
    obs.client.on('message', (topic, payload) => {
      try {
        if (topic !== `${base}/signal/out`) return;
        const m = JSON.parse(payload.toString()) as {
          type: string;
          sessionId: string;
          sdp?: string;
          candidate?: string;
          mid?: string;
        };
        if (m.sessionId !== sessionId) return;
        if (m.type === 'answer' && m.sdp) {
          pc.setRemoteDescription(m.sdp, 'answer');
          remoteSet = true;
          for (const c of pending.splice(0)) pc.addRemoteCandidate(c.candidate, c.mid);
          for (const c of outgoing.splice(0)) publish({ type: 'candidate', sessionId, ...c });
        } else if (m.type === 'candidate' && m.candidate !== undefined && m.mid !== undefined) {
          if (remoteSet) pc.addRemoteCandidate(m.candidate, m.mid);
          else pending.push({ candidate: m.candidate, mid: m.mid });
        }
      } catch {
        // never throw into mqtt/node-datachannel
      }
    });
    const publish = (m: object): void =>
      void obs.client.publishAsync(`${base}/signal/in`, JSON.stringify(m), { qos: 1 });
    pc.onLocalDescription((sdp, type) => {
      try {
        if (type === 'offer') {
          publish({
            type: 'offer',
            sessionId,
            sdp: sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1'),
            grant,
            iceServers: [],
          });
        }
      } catch {
        // idem
      }
    });
    const outgoing: { candidate: string; mid: string }[] = [];
    pc.onLocalCandidate((candidate, mid) => {
      try {
        // sent once the answer is applied (libdatachannel fingerprint race, see
        // test/system/harness.ts)
        if (remoteSet) publish({ type: 'candidate', sessionId, candidate, mid });
        else outgoing.push({ candidate, mid });
      } catch {
        // idem
      }
    });
    const dc = pc.createDataChannel('peer-http');
    const transport = await new Promise<Transport>((resolve) =>
      dc.onOpen(() => {
        try {
          resolve(nodeDataChannelTransport(dc));
        } catch {
          // idem
        }
      }),
    );
    await consoleHandshake(transport, {
      deviceId,
      grant,
      sessionKey: createSigner(sessionPair),
      localFingerprint: parseSdpFingerprint(pc.localDescription()?.sdp ?? ''),
      remoteFingerprint: parseSdpFingerprint(pc.remoteDescription()?.sdp ?? ''),
    });
    const client = createPeerFetch(transport);
    const hello = await client.fetch('http://localhost:8778/api/hello');
    expect(await hello.json()).toMatchObject({ message: 'hello from cam-system' });
    const info = (await (await client.fetch('/_agent/info')).json()) as { deviceId: string };
    expect(info.deviceId).toBe(deviceId);

    // the audit events reach the registrar topic on the next sync (every heartbeat interval)
    const audit = await obs.waitFor('audit', (m) => m.topic === `${base}/audit`, 0);
    expect(audit.json?.['events']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          user: 'alice',
          method: 'GET',
          path: '/api/hello',
          status: 200,
          sessionId,
        }),
      ]),
    );
    const heartbeat = await obs.waitFor(
      'heartbeat with the session',
      (m) => m.topic === `${base}/heartbeat` && m.json?.['sessions'] === 1,
    );
    expect(heartbeat.json).toMatchObject({ sessions: 1 });

    // SIGTERM with the session open: hangup sent, offline published, clean exit
    const mark = obs.seen.length;
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    await obs.waitFor(
      'hangup',
      (m) => m.topic === `${base}/signal/out` && m.json?.['type'] === 'hangup',
      mark,
    );
    await obs.waitFor(
      'offline',
      (m) => m.topic === `${base}/status` && m.json?.['state'] === 'offline',
      mark,
    );
    await client.closed;
    pc.close();
    await obs.close();
    expect(stderr).not.toContain(CODE);
  });
});
