// Test doubles for device sessions: a scripted RTCPeerConnection and signaling, and a
// "device" on the other end of an in-memory transport pair that runs the REAL device
// handshake (@peerfetch/crypto) and serves peer-http. Grants are really signed.
import {
  createDeviceKeyPins,
  createSigner,
  deviceHandshake,
  generateKeyPair,
  importPublicJwk,
  memoryStorage,
  signGrant,
  type Ed25519KeyPair,
} from '@peerfetch/crypto';
import { createMemoryTransportPair, servePeerHttp, type Transport } from '@peerfetch/peer-http';
import type { SessionRequest, SessionTicket } from '../services/api-types.js';
import type { DeviceSessionOptions } from '../services/session/device-session.js';
import type {
  IceCandidateMessage,
  OfferMessage,
  PathType,
  SignalingChannel,
} from '../services/session/signaling.js';

export const DEVICE_ID = '6b1f3c1e-8a47-4d55-9a43-2d8f1b7e0c11';
export const fp = (byte: number) =>
  `sha-256 ${Array.from({ length: 32 }, () => byte.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
export const FP_CONSOLE = fp(0xc0);
export const FP_DEVICE = fp(0xd0);
export const sdp = (fingerprint: string) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:${fingerprint}\r\n`;

export class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  open() {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
}

export class FakePeerConnection extends EventTarget {
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  channel = new FakeChannel();
  added: RTCIceCandidateInit[] = [];
  closed = false;
  constructor(readonly config: RTCConfiguration) {
    super();
  }
  createDataChannel(_label: string, init: RTCDataChannelInit) {
    if (init.ordered !== true) throw new Error('the channel must be ordered');
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
    setTimeout(() => {
      this.iceConnectionState = 'connected';
      this.dispatchEvent(new Event('iceconnectionstatechange'));
      this.channel.open();
    }, 1);
    return Promise.resolve();
  }
  addIceCandidate(c: RTCIceCandidateInit) {
    if (!this.remoteDescription) throw new Error('candidate before the remote description');
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

export class FakeSignaling implements SignalingChannel {
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

export interface FakeDevice {
  options: Omit<DeviceSessionOptions, 'deviceId'>;
  pcs: FakePeerConnection[];
  signals: FakeSignaling[];
  devices: Transport[];
  storage: ReturnType<typeof memoryStorage>;
}

export const registrar = generateKeyPair();

export function fakeDevice(
  script: {
    deviceKey?: Ed25519KeyPair;
    storage?: ReturnType<typeof memoryStorage>;
    refuseGrant?: boolean;
    /** What the device does with the offer. */
    device?: 'answer' | 'hangup' | 'wrong-fingerprint' | 'silent';
  } = {},
): FakeDevice {
  const deviceKey = script.deviceKey ?? generateKeyPair();
  const storage = script.storage ?? memoryStorage();
  const pcs: FakePeerConnection[] = [];
  const signals: FakeSignaling[] = [];
  const devices: Transport[] = [];
  let pair: [Transport, Transport] | undefined;
  const options: Omit<DeviceSessionOptions, 'deviceId'> = {
    async requestSession(req: SessionRequest): Promise<SessionTicket> {
      if (script.refuseGrant) throw Object.assign(new Error('no access'), { code: 'FORBIDDEN' });
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
        if (!offer.sdp.includes(FP_CONSOLE)) throw new Error('offer without our fingerprint');
        if (script.device === 'hangup') {
          setTimeout(() => sig.hangup?.('GRANT_BAD_SIGNATURE'), 1);
          return;
        }
        pair = createMemoryTransportPair();
        const device = pair[1];
        devices.push(device);
        if (script.device !== 'silent')
          setTimeout(() => {
            sig.candidate?.({ candidate: 'candidate:2 1 udp 1 127.0.0.1 6000 typ host', mid: '0' });
            sig.answer?.(sdp(script.device === 'wrong-fingerprint' ? fp(0xee) : FP_DEVICE));
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
  };
  return { options, pcs, signals, devices, storage };
}
