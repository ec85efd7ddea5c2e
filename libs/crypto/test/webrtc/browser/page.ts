// The Chromium test page, bundled by esbuild from the library's browser entry. It runs the
// shared scenarios (test/shared/scenarios.ts) in the browser, and plays the console in a
// real RTCPeerConnection ↔ node-datachannel handshake. Node drives it through `window.pfc`.
import {
  type Signer,
  HandshakeError,
  consoleHandshake,
  generateSessionSigner,
  parseSdpFingerprint,
  toBase64url,
} from '../../../src/index.js';
import { scenarios } from '../../shared/scenarios.js';

export type PageSignal =
  { type: 'offer' | 'answer'; sdp: string } | { type: 'candidate'; candidate: string; mid: string };

export interface ConsoleOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  deviceKey?: string;
  firstSight?: boolean;
  /** What came through the channel after the handshake (peer-http would read it). */
  afterwards?: string;
}

export interface PageApi {
  scenarioNames(): string[];
  runScenario(name: string): Promise<{ ok: boolean; error?: string }>;
  newSessionKey(): Promise<string>;
  connect(deviceId: string, grant: string): Promise<ConsoleOutcome>;
  remote(signal: PageSignal): Promise<void>;
}

declare global {
  interface Window {
    pfc: PageApi;
    pfcSignal(signal: PageSignal): Promise<void>;
  }
}

let session: Signer | undefined;
let pc: RTCPeerConnection | undefined;

const api: PageApi = {
  scenarioNames: () => scenarios.map((s) => s.name),
  async runScenario(name) {
    const scenario = scenarios.find((s) => s.name === name);
    if (!scenario) return { ok: false, error: `no scenario ${name}` };
    try {
      await scenario.run();
      return { ok: true };
    } catch (error) {
      return {
        ok: false,
        error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error),
      };
    }
  },
  async newSessionKey() {
    session = await generateSessionSigner(); // non-extractable WebCrypto key
    return toBase64url(session.publicKey);
  },
  async connect(deviceId, grant) {
    if (!session) throw new Error('no session key');
    const peer = new RTCPeerConnection({ iceServers: [] });
    pc = peer;
    peer.onicecandidate = (event) => {
      if (event.candidate?.candidate) {
        void window.pfcSignal({
          type: 'candidate',
          candidate: event.candidate.candidate,
          mid: event.candidate.sdpMid ?? '0',
        });
      }
    };
    const dc = peer.createDataChannel('peerfetch');
    dc.binaryType = 'arraybuffer';
    let listener: ((m: Uint8Array) => void) | undefined;
    let closeListener: ((error?: Error) => void) | undefined;
    const queued: Uint8Array[] = [];
    dc.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      const bytes = new Uint8Array(event.data);
      if (listener) listener(bytes);
      else queued.push(bytes);
    };
    dc.onclose = () => closeListener?.();
    const channel = {
      send: (m: Uint8Array) => dc.send(new Uint8Array(m)),
      onMessage(l: ((m: Uint8Array) => void) | undefined) {
        listener = l;
        while (listener && queued.length > 0) {
          const next = queued.shift();
          if (next) listener(next);
        }
      },
      onClose(l: ((error?: Error) => void) | undefined) {
        closeListener = l;
      },
      close: () => dc.close(),
    };
    const open = new Promise<void>((resolve) => (dc.onopen = () => resolve()));
    await peer.setLocalDescription(await peer.createOffer());
    await window.pfcSignal({ type: 'offer', sdp: peer.localDescription?.sdp ?? '' });
    await open;
    const localSdp = peer.localDescription?.sdp ?? '';
    const remoteSdp = peer.remoteDescription?.sdp ?? '';
    try {
      const result = await consoleHandshake(channel, {
        deviceId,
        grant,
        sessionKey: session,
        localFingerprint: parseSdpFingerprint(localSdp),
        remoteFingerprint: parseSdpFingerprint(remoteSdp),
      });
      const afterwards = await new Promise<Uint8Array>((resolve) => channel.onMessage(resolve));
      channel.send(new TextEncoder().encode('console says hi'));
      return {
        ok: true,
        deviceKey: toBase64url(result.deviceKey),
        firstSight: result.firstSight,
        afterwards: new TextDecoder().decode(afterwards),
      };
    } catch (error) {
      if (error instanceof HandshakeError) {
        return { ok: false, code: error.code, message: error.message };
      }
      return { ok: false, message: String(error) };
    }
  },
  async remote(signal) {
    if (!pc) throw new Error('no peer connection');
    if (signal.type === 'candidate') {
      await pc.addIceCandidate({ candidate: signal.candidate, sdpMid: signal.mid });
    } else {
      await pc.setRemoteDescription({ type: signal.type, sdp: signal.sdp });
    }
  },
};

window.pfc = api;
