// The test page's script, bundled by esbuild for Chromium. It imports the library through
// its browser entry (`src/index.ts`), so a Node-only import anywhere in that graph breaks
// the bundle (and the test). Node drives the page through the globals set below.
import { sha256 } from '@noble/hashes/sha2.js';
import * as peerHttp from '../../../src/index.js';
import type { Transport } from '../../../src/transport.js';
import * as fixtures from '../fixtures.js';

export interface SignalMessage {
  type: 'offer' | 'answer' | 'candidate';
  sdp?: string;
  candidate?: string;
  mid?: string;
}

export interface PageApi {
  peerHttp: typeof peerHttp;
  sha256: typeof sha256;
  fixtures: typeof fixtures;
  /**
   * Creates a PeerConnection and DataChannel, sends the offer via `pfSignalToNode`, and
   * resolves once the channel is open with the setup time (createDataChannel → open, ms).
   */
  connect(label: string): Promise<number>;
  /** Node → page signaling. */
  remote(message: SignalMessage): Promise<void>;
  transport(): Transport;
  peerConnection(): RTCPeerConnection;
  /** Echoes every message back (adapter tests). */
  echo(): void;
  /** Tears the PeerConnection down. */
  hangUp(): void;
  hex(bytes: Uint8Array): string;
  /** Scratch space for tests and benches (clients, servers, counters). */
  state: Record<string, unknown>;
}

declare global {
  interface Window {
    pf: PageApi;
    /** Exposed by the Node test through page.exposeFunction. */
    pfSignalToNode(message: SignalMessage): Promise<void>;
  }
}

let pc: RTCPeerConnection | undefined;
let transport: Transport | undefined;
const pendingCandidates: RTCIceCandidateInit[] = [];

window.pf = {
  peerHttp,
  sha256,
  fixtures,
  async connect(label) {
    const started = performance.now();
    pc = new RTCPeerConnection({ iceServers: [] });
    const connection = pc;
    connection.onicecandidate = (event) => {
      if (event.candidate?.candidate) {
        void window.pfSignalToNode({
          type: 'candidate',
          candidate: event.candidate.candidate,
          mid: event.candidate.sdpMid ?? '0',
        });
      }
    };
    const channel = connection.createDataChannel(label);
    const opened = new Promise<void>((resolve, reject) => {
      channel.onopen = () => resolve();
      channel.onerror = () => reject(new Error('DataChannel failed to open'));
    });
    const offer = await connection.createOffer();
    await connection.setLocalDescription(offer);
    await window.pfSignalToNode({ type: 'offer', sdp: connection.localDescription?.sdp ?? '' });
    await opened;
    const setupMs = performance.now() - started;
    transport = peerHttp.rtcDataChannelTransport(channel, {
      maxMessageSize: connection.sctp?.maxMessageSize,
    });
    return setupMs;
  },
  async remote(message) {
    if (pc === undefined) throw new Error('not connected');
    if (message.type === 'answer') {
      await pc.setRemoteDescription({ type: 'answer', sdp: message.sdp ?? '' });
      for (const candidate of pendingCandidates.splice(0)) await pc.addIceCandidate(candidate);
    } else if (message.type === 'candidate') {
      const candidate = { candidate: message.candidate ?? '', sdpMid: message.mid ?? '0' };
      if (pc.remoteDescription === null) pendingCandidates.push(candidate);
      else await pc.addIceCandidate(candidate);
    }
  },
  transport() {
    if (transport === undefined) throw new Error('not connected');
    return transport;
  },
  peerConnection() {
    if (pc === undefined) throw new Error('not connected');
    return pc;
  },
  echo() {
    const t = window.pf.transport();
    t.onMessage((message) => t.send(message));
  },
  hangUp() {
    pc?.close();
  },
  hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  },
  state: {},
};
