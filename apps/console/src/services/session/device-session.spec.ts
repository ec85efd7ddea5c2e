// @vitest-environment node
// Real crypto (grant, handshake) and real peer-http over an in-memory transport pair; only
// the RTCPeerConnection and the signaling are fakes.
import {
  createDeviceKeyPins,
  createSigner,
  deviceHandshake,
  exportPublicJwk,
  generateKeyPair,
  importPublicJwk,
  keyFingerprint,
  memoryStorage,
  signGrant,
  type Ed25519KeyPair,
} from '@peerfetch/crypto';
import { createMemoryTransportPair, servePeerHttp, type Transport } from '@peerfetch/peer-http';
import { describe, expect, it } from 'vitest';
import type { SessionRequest, SessionTicket } from '../api-types.js';
import { DeviceSession, selectedPath, type SessionState } from './device-session.js';
import type { IceCandidateMessage, OfferMessage, PathType, SignalingChannel } from './signaling.js';

const DEVICE_ID = '6b1f3c1e-8a47-4d55-9a43-2d8f1b7e0c11';
const fp = (byte: number) =>
  `sha-256 ${Array.from({ length: 32 }, () => byte.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
const FP_CONSOLE = fp(0xc0);
const FP_DEVICE = fp(0xd0);
const sdp = (fingerprint: string) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:${fingerprint}\r\n`;

class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  open() {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
}

class FakePeerConnection extends EventTarget {
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  channel = new FakeChannel();
  added: RTCIceCandidateInit[] = [];
  closed = false;
  constructor(readonly config: RTCConfiguration) {
    super();
  }
  createDataChannel(_label: string, init: RTCDataChannelInit) {
    expect(init.ordered).toBe(true);
    return this.channel;
  }
  createOffer() {
    return Promise.resolve({ type: 'offer' as const, sdp: sdp(FP_CONSOLE) });
  }
  setLocalDescription(d: RTCSessionDescriptionInit) {
    this.localDescription = d;
    queueMicrotask(() => {
      const e = new Event('icecandidate') as Event & { candidate: unknown };
      e.candidate = { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0' };
      this.dispatchEvent(e);
    });
    return Promise.resolve();
  }
  setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    this.connectionState = 'connected';
    setTimeout(() => this.channel.open(), 1);
    return Promise.resolve();
  }
  addIceCandidate(c: RTCIceCandidateInit) {
    expect(this.remoteDescription).not.toBeNull();
    this.added.push(c);
    return Promise.resolve();
  }
  getStats() {
    return Promise.resolve(
      new Map<string, Record<string, unknown>>([
        ['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }],
        ['P', { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' }],
        ['L', { id: 'L', type: 'local-candidate', candidateType: 'host' }],
        ['R', { id: 'R', type: 'remote-candidate', candidateType: 'srflx' }],
      ]),
    );
  }
  close() {
    this.closed = true;
    this.connectionState = 'closed';
  }
  fail() {
    this.connectionState = 'failed';
    this.dispatchEvent(new Event('connectionstatechange'));
  }
}

class FakeSignaling implements SignalingChannel {
  offers: OfferMessage[] = [];
  candidates: IceCandidateMessage[] = [];
  connected: PathType[] = [];
  closedWith: string | undefined;
  answer?: (sdp: string) => void;
  candidate?: (c: IceCandidateMessage) => void;
  hangup?: (reason: string) => void;
  constructor(private readonly onOffer: (s: FakeSignaling, o: OfferMessage) => void) {}
  sendOffer(o: OfferMessage) {
    this.offers.push(o);
    this.onOffer(this, o);
  }
  sendCandidate(c: IceCandidateMessage) {
    this.candidates.push(c);
  }
  sendConnected(path: PathType) {
    this.connected.push(path);
  }
  onAnswer(l: (sdp: string) => void) {
    this.answer = l;
  }
  onCandidate(l: (c: IceCandidateMessage) => void) {
    this.candidate = l;
  }
  onHangup(l: (reason: string) => void) {
    this.hangup = l;
  }
  close(reason?: string) {
    this.closedWith ??= reason ?? 'closed';
  }
}

interface Rig {
  session: DeviceSession;
  states: SessionState[];
  pcs: FakePeerConnection[];
  signals: FakeSignaling[];
  devices: Transport[];
  storage: ReturnType<typeof memoryStorage>;
}

const registrar = generateKeyPair();

function rig(
  options: {
    deviceKey?: Ed25519KeyPair;
    storage?: ReturnType<typeof memoryStorage>;
    refuseGrant?: boolean;
    /** What the device does with the offer. */
    device?: 'answer' | 'hangup' | 'wrong-fingerprint';
  } = {},
): Rig {
  const deviceKey = options.deviceKey ?? generateKeyPair();
  const storage = options.storage ?? memoryStorage();
  const pcs: FakePeerConnection[] = [];
  const signals: FakeSignaling[] = [];
  const devices: Transport[] = [];
  let pair: [Transport, Transport] | undefined;
  const session = new DeviceSession({
    deviceId: DEVICE_ID,
    async requestSession(req: SessionRequest): Promise<SessionTicket> {
      if (options.refuseGrant) throw Object.assign(new Error('no access'), { code: 'FORBIDDEN' });
      const sessionId = crypto.randomUUID();
      const grant = await signGrant(
        {
          issuer: 'test',
          userId: 'u1',
          deviceId: req.deviceId,
          orgId: 'o1',
          role: 'viewer',
          sessionKey: importPublicJwk(req.sessionKey),
          sessionId,
        },
        registrar,
      );
      return { sessionId, grant, role: 'viewer', iceServers: [{ urls: 'stun:stun.test:3478' }] };
    },
    openSignaling: () => {
      const s = new FakeSignaling((sig, offer) => {
        expect(offer.sdp).toContain(FP_CONSOLE);
        if (options.device === 'hangup') {
          setTimeout(() => sig.hangup?.('GRANT_BAD_SIGNATURE'), 1);
          return;
        }
        pair = createMemoryTransportPair();
        const device = pair[1];
        devices.push(device);
        setTimeout(() => {
          sig.candidate?.({ candidate: 'candidate:2 1 udp 1 127.0.0.1 6000 typ host', mid: '0' });
          sig.answer?.(sdp(options.device === 'wrong-fingerprint' ? fp(0xee) : FP_DEVICE));
        }, 1);
        deviceHandshake(device, {
          deviceId: DEVICE_ID,
          deviceKey: createSigner(deviceKey),
          registrarKey: registrar.publicKey,
          localFingerprint: FP_DEVICE,
          remoteFingerprint: FP_CONSOLE,
        }).then(
          () =>
            servePeerHttp(device, (request) =>
              Response.json({ path: new URL(request.url).pathname, method: request.method }),
            ),
          () => undefined,
        );
      });
      signals.push(s);
      return Promise.resolve(s);
    },
    createPeerConnection: (config) => {
      const pc = new FakePeerConnection(config);
      pcs.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    pins: createDeviceKeyPins(storage),
    transportFor: () => {
      if (!pair) throw new Error('no transport pair');
      return pair[0];
    },
    setupTimeoutMs: 5_000,
  });
  const states: SessionState[] = [];
  session.on((e) => {
    if (e.type === 'state') states.push(e.state);
  });
  return { session, states, pcs, signals, devices, storage };
}

describe('DeviceSession', () => {
  it('connects: grant, offer, trickle, handshake, pin on first sight, peer-http', async () => {
    const r = rig();
    await r.session.connect();
    expect(r.session.failure).toBeNull();
    expect(r.states).toEqual(['requesting-grant', 'connecting', 'handshaking', 'verified']);
    expect(r.session.role).toBe('viewer');
    expect(r.session.firstSight).toBe(true);
    expect(r.session.deviceKey?.display).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    expect(r.storage.getItem(`peerfetch.deviceKey.${DEVICE_ID}`)).not.toBeNull();
    expect(r.pcs[0]?.config.iceServers).toEqual([{ urls: 'stun:stun.test:3478' }]);
    expect(r.signals[0]?.offers[0]?.deviceId).toBe(DEVICE_ID);
    expect(r.signals[0]?.candidates[0]?.candidate).toContain('typ host');
    expect(r.pcs[0]?.added[0]?.candidate).toContain('6000'); // queued until the answer
    expect(r.session.path).toBe('srflx');
    expect(r.signals[0]?.connected).toEqual(['srflx']);
    const res = await r.session.http!.fetch('/api/hello');
    expect(await res.json()).toEqual({ path: '/api/hello', method: 'GET' });
    await r.session.refreshStats();
    expect(typeof r.session.rttMs).toBe('number');
    await r.session.close();
  });

  it('close ends everything, and reconnecting works with the pinned key', async () => {
    const storage = memoryStorage();
    const deviceKey = generateKeyPair();
    const r = rig({ storage, deviceKey });
    await r.session.connect();
    await r.session.close();
    expect(r.session.state).toBe('closed');
    expect(r.session.http).toBeNull();
    expect(r.pcs[0]?.closed).toBe(true);
    expect(r.signals[0]?.closedWith).toBe('closed by the user');
    await r.session.connect();
    expect(r.session.state).toBe('verified');
    expect(r.session.firstSight).toBe(false);
    expect(r.pcs).toHaveLength(2);
    await r.session.close();
  });

  it('refuses a changed device key loudly and connects only after an explicit re-pin', async () => {
    const storage = memoryStorage();
    const first = rig({ storage });
    await first.session.connect();
    const pinned = first.session.deviceKey?.display;
    await first.session.close();

    const newKey = generateKeyPair();
    const r = rig({ storage, deviceKey: newKey });
    await r.session.connect();
    expect(r.session.state).toBe('failed');
    expect(r.session.failure?.reason).toBe('DEVICE_KEY_CHANGED');
    expect(r.session.deviceKey?.display).toBe(pinned); // what was trusted before
    expect(r.session.http).toBeNull();
    expect(r.pcs[0]?.closed).toBe(true);

    await r.session.trustNewKey();
    expect(r.session.state).toBe('verified');
    expect(r.session.firstSight).toBe(true);
    expect(r.session.deviceKey?.display).toBe(keyFingerprint(newKey.publicKey).display);
    await r.session.close();
  });

  it('fails with typed reasons: grant refused, device refusal, fingerprint mismatch, lost link', async () => {
    const refused = rig({ refuseGrant: true });
    await refused.session.connect();
    expect(refused.session.failure).toMatchObject({ reason: 'GRANT_REFUSED', code: 'FORBIDDEN' });
    expect(refused.pcs).toHaveLength(0);

    const hangup = rig({ device: 'hangup' });
    await hangup.session.connect();
    expect(hangup.session.failure).toMatchObject({
      reason: 'DEVICE_REFUSED',
      code: 'GRANT_BAD_SIGNATURE',
    });
    expect(hangup.pcs[0]?.closed).toBe(true);

    const mitm = rig({ device: 'wrong-fingerprint' });
    await mitm.session.connect();
    expect(mitm.session.failure).toMatchObject({
      reason: 'HANDSHAKE_FAILED',
      code: 'FINGERPRINT_MISMATCH',
    });

    const lost = rig();
    await lost.session.connect();
    lost.pcs[0]?.fail();
    expect(lost.session.state).toBe('failed');
    expect(lost.session.failure?.reason).toBe('CONNECTION_LOST');
    expect(lost.session.http).toBeNull();
  });
});

describe('selectedPath', () => {
  const report = (entries: Record<string, unknown>[]) =>
    new Map(entries.map((e) => [e['id'] as string, e])) as unknown as RTCStatsReport;
  it('reads the selected pair, else a nominated succeeded one; the most indirect end wins', () => {
    expect(
      selectedPath(
        report([
          {
            id: 'P',
            type: 'candidate-pair',
            nominated: true,
            state: 'succeeded',
            localCandidateId: 'L',
            remoteCandidateId: 'R',
          },
          { id: 'L', type: 'local-candidate', candidateType: 'relay' },
          { id: 'R', type: 'remote-candidate', candidateType: 'host' },
        ]),
      ),
    ).toBe('relay');
    expect(
      selectedPath(report([{ id: 'X', type: 'candidate-pair', state: 'waiting' }])),
    ).toBeNull();
  });
  it('keeps the exported JWK shape the registrar expects', () => {
    const k = generateKeyPair();
    expect(exportPublicJwk(k.publicKey)).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
  });
});
