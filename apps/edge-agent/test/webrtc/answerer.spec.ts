// End to end over real node-datachannel peers (inside the loopback-only namespace): a
// console-side peer offers, the agent's WebRtcAnswerer answers, both run the channel
// handshake, then peer-http requests reach the agent router: built-in routes, clips with
// Range, the allow-listed proxy to the demo upstream, role enforcement, audit; plus
// admission (bad grant, session cap) and hangup.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  consoleHandshake,
  createSigner,
  exportPrivateJwk,
  exportPublicJwk,
  generateKeyPair,
  parseSdpFingerprint,
  signGrant,
  type Role,
} from '@peerfetch/crypto';
import {
  type PeerHttpSession,
  type Transport,
  createPeerFetch,
  nodeDataChannelTransport,
} from '@peerfetch/peer-http/node';
import nodeDataChannel, { type PeerConnection } from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../../src/audit/audit-log.js';
import { createClipsHandler } from '../../src/clips/clips.js';
import { startDemoUpstream } from '../../src/demo/upstream.js';
import { writeSyntheticFile } from '../../src/demo/synthetic.js';
import { createUpstreamProxy } from '../../src/http/proxy.js';
import { createAgentRouter } from '../../src/http/router.js';
import type { DeviceIdentity } from '../../src/identity.js';
import { createLogger, silentLogger } from '../../src/log.js';
import type { SignalOut } from '../../src/mqtt/topics.js';
import { WebRtcAnswerer } from '../../src/webrtc/answerer.js';
import { waitFor } from '../support/mosquitto.js';

const registrarPair = generateKeyPair();
const devicePair = generateKeyPair();
const deviceId = randomUUID();
const identity: DeviceIdentity = {
  deviceId,
  orgId: 'org-1',
  publicKey: exportPublicJwk(devicePair.publicKey),
  privateKey: exportPrivateJwk(devicePair),
  registrarKey: exportPublicJwk(registrarPair.publicKey),
  registrarUrl: 'https://registrar.invalid',
  mqtt: { url: 'mqtt://127.0.0.1:1', username: deviceId, password: 'x' },
  name: 'cam-webrtc',
  enrolledAt: 0,
};

const SIZE = 3 * 1024 * 1024 + 5;
let clipSha: string;
let clip: Buffer;
let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
let answerer: WebRtcAnswerer;
const audits: AuditEventInput[] = [];
const outbox = new Map<string, (m: SignalOut) => void>();
const signals: SignalOut[] = [];

beforeAll(async () => {
  const clipsDir = mkdtempSync(join(tmpdir(), 'agent-rtc-'));
  clipSha = await writeSyntheticFile(join(clipsDir, 'clip.bin'), SIZE, 3);
  clip = readFileSync(join(clipsDir, 'clip.bin'));
  upstream = await startDemoUpstream({ name: 'cam-webrtc', port: 0 });
  const router = createAgentRouter({
    clips: createClipsHandler({ clipsDir }),
    proxy: createUpstreamProxy({ origins: [upstream.url] }),
    info: () => ({ deviceId, name: 'cam-webrtc' }),
    audit: (e) => audits.push(e),
  });
  answerer = new WebRtcAnswerer({
    identity,
    handlerFor: router,
    send: (m) => {
      signals.push(m);
      outbox.get(m.sessionId)?.(m);
      return Promise.resolve();
    },
    log: process.env['AGENT_TEST_LOG'] ? createLogger('debug') : silentLogger(),
    maxSessions: 2,
    idleTimeoutS: 60,
    bindAddress: '127.0.0.1',
  });
});

afterAll(async () => {
  await answerer.closeAll('test end');
  await upstream.close();
  await new Promise((r) => setTimeout(r, 100));
  nodeDataChannel.cleanup();
});

interface ConsolePeer {
  sessionId: string;
  client: PeerHttpSession;
  pc: PeerConnection;
  connected(): Extract<SignalOut, { type: 'connected' }> | undefined;
  close(): void;
}

async function grantFor(
  role: Role,
  sessionKey: Uint8Array,
  opts: { routes?: string[]; key?: typeof registrarPair } = {},
) {
  return signGrant(
    {
      issuer: 'test',
      userId: `user-${role}`,
      deviceId,
      orgId: 'org-1',
      role,
      sessionKey,
      ...(opts.routes ? { routes: opts.routes } : {}),
    },
    opts.key ?? registrarPair,
  );
}

/** Offers to the answerer and returns once the handshake passed (or the refusal). */
async function connect(
  role: Role,
  opts: { routes?: string[]; key?: typeof registrarPair; target?: WebRtcAnswerer } = {},
): Promise<ConsolePeer> {
  const target = opts.target ?? answerer;
  const sessionId = randomUUID();
  const sessionPair = generateKeyPair();
  const grant = await grantFor(role, sessionPair.publicKey, opts);
  const pc = new nodeDataChannel.PeerConnection(`console-${sessionId}`, {
    iceServers: [],
    bindAddress: '127.0.0.1',
  });
  let remoteSet = false;
  const pending: { candidate: string; mid: string }[] = [];
  const outgoing: { candidate: string; mid: string }[] = [];
  let connected: Extract<SignalOut, { type: 'connected' }> | undefined;
  let refused: ((reason: string) => void) | undefined;
  const refusal = new Promise<string>((r) => (refused = r));
  outbox.set(sessionId, (m) => {
    try {
      if (m.type === 'answer') {
        pc.setRemoteDescription(m.sdp, 'answer');
        remoteSet = true;
        for (const c of pending.splice(0)) pc.addRemoteCandidate(c.candidate, c.mid);
        for (const c of outgoing.splice(0))
          void target.handle({ type: 'candidate', sessionId, ...c });
      } else if (m.type === 'candidate') {
        if (remoteSet) pc.addRemoteCandidate(m.candidate, m.mid);
        else pending.push({ candidate: m.candidate, mid: m.mid });
      } else if (m.type === 'connected') {
        connected = m;
      } else {
        refused?.(m.reason);
      }
    } catch {
      // never throw into callers
    }
  });
  pc.onLocalDescription((sdp, type) => {
    try {
      if (type === 'offer') {
        const offer = sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1');
        void target.handle({ type: 'offer', sessionId, sdp: offer, grant, iceServers: [] });
      }
    } catch {
      // idem
    }
  });
  pc.onLocalCandidate((candidate, mid) => {
    try {
      // sent once the answer is applied (libdatachannel fingerprint race, see
      // test/system/harness.ts)
      if (remoteSet) void target.handle({ type: 'candidate', sessionId, candidate, mid });
      else outgoing.push({ candidate, mid });
    } catch {
      // idem
    }
  });
  const dc = pc.createDataChannel('peer-http');
  // the transport wraps an open channel: create it inside onOpen (nothing can be missed)
  const opened = new Promise<Transport>((resolve) =>
    dc.onOpen(() => {
      try {
        resolve(nodeDataChannelTransport(dc));
      } catch {
        // idem
      }
    }),
  );
  const first = await Promise.race([opened, refusal]);
  if (typeof first === 'string') {
    pc.close();
    throw Object.assign(new Error(`refused: ${first}`), { reason: first });
  }
  const transport = first;
  await consoleHandshake(transport, {
    deviceId,
    grant,
    sessionKey: createSigner(sessionPair),
    localFingerprint: parseSdpFingerprint(pc.localDescription()?.sdp ?? ''),
    remoteFingerprint: parseSdpFingerprint(pc.remoteDescription()?.sdp ?? ''),
  });
  const client = createPeerFetch(transport);
  return {
    sessionId,
    client,
    pc,
    /** The answerer's `connected` report (path of its selected pair), once sent. */
    connected: () => connected,
    close: () => {
      void client.close().catch(() => undefined);
      pc.close();
    },
  };
}

describe('WebRtcAnswerer over node-datachannel', () => {
  it('operator: info, clips with Range, proxied API with streamed body, audit', async () => {
    const c = await connect('operator');
    expect(answerer.activeSessions).toBe(1);
    // loopback: both ends host candidates, reported once the agent is connected
    expect(c.connected()).toEqual({
      type: 'connected',
      sessionId: c.sessionId,
      path: 'host',
      pair: 'host→host',
    });
    const info = await c.client.fetch('/_agent/info');
    expect(await info.json()).toEqual({ deviceId, name: 'cam-webrtc' });

    const whole = await c.client.fetch('/_agent/clips/clip.bin');
    expect(
      createHash('sha256')
        .update(new Uint8Array(await whole.arrayBuffer()))
        .digest('hex'),
    ).toBe(clipSha);
    const part = await c.client.fetch('/_agent/clips/clip.bin', {
      headers: { range: 'bytes=1000000-1999999' },
    });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(clip.subarray(1_000_000, 2_000_000));

    const hello = await c.client.fetch('http://localhost:8778/api/hello');
    expect(await hello.json()).toMatchObject({ message: 'hello from cam-webrtc' });
    const body = Buffer.alloc(1024 * 1024 + 1, 9);
    const echo = await c.client.fetch('/api/echo', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-test' },
    });
    expect(Buffer.from(await echo.arrayBuffer()).equals(body)).toBe(true);

    await waitFor('audit of the echo', () => audits.find((a) => a.path === '/api/echo'));
    expect(audits.find((a) => a.path === '/api/echo')).toMatchObject({
      user: 'user-operator',
      role: 'operator',
      method: 'POST',
      status: 200,
      bytes: body.length,
      sessionId: c.sessionId,
    });
    c.close();
    await waitFor('session freed', () => answerer.activeSessions === 0);
  });

  it('viewer: reads only', async () => {
    const c = await connect('viewer');
    expect((await c.client.fetch('/api/hello')).status).toBe(200);
    const post = await c.client.fetch('/api/echo', { method: 'POST', body: 'x' });
    expect(post.status).toBe(403);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    c.close();
    await waitFor('session freed', () => answerer.activeSessions === 0);
  });

  it('refuses a grant not signed by the pinned registrar key, before any ICE', async () => {
    const err = (await connect('admin', { key: generateKeyPair() }).catch((e: unknown) => e)) as {
      reason?: string;
    };
    expect(err.reason).toBe('GRANT_BAD_SIGNATURE');
    expect(answerer.activeSessions).toBe(0);
  });

  it('caps concurrent sessions and frees one on hangup', async () => {
    const a = await connect('viewer');
    const b = await connect('viewer');
    expect(answerer.activeSessions).toBe(2);
    const err = (await connect('viewer').catch((e: unknown) => e)) as { reason?: string };
    expect(err.reason).toBe('TOO_MANY_SESSIONS');
    await answerer.handle({ type: 'hangup', sessionId: a.sessionId });
    expect(answerer.activeSessions).toBe(1);
    await a.client.closed; // the agent closed the channel
    const c = await connect('viewer');
    expect((await c.client.fetch('/_agent/health')).status).toBe(200);
    for (const p of [b, c]) p.close();
    await waitFor('all freed', () => answerer.activeSessions === 0);
  });

  it('closes a verified session that stays idle, with a hangup to the registrar', async () => {
    const router = createAgentRouter({
      clips: createClipsHandler({ clipsDir: tmpdir() }),
      proxy: createUpstreamProxy({ origins: [upstream.url] }),
      info: () => ({ deviceId }),
    });
    const idle = new WebRtcAnswerer({
      identity,
      handlerFor: router,
      send: (m) => {
        signals.push(m);
        outbox.get(m.sessionId)?.(m);
        return Promise.resolve();
      },
      log: silentLogger(),
      maxSessions: 2,
      idleTimeoutS: 1,
      bindAddress: '127.0.0.1',
    });
    const c = await connect('viewer', { target: idle });
    expect((await c.client.fetch('/_agent/health')).status).toBe(200);
    await waitFor('idle hangup', () =>
      signals.find(
        (m) => m.sessionId === c.sessionId && m.type === 'hangup' && m.reason === 'idle timeout',
      ),
    );
    expect(idle.activeSessions).toBe(0);
    await c.client.closed;
    c.close();
  });
});
