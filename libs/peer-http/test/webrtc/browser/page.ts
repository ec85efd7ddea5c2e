// The test page's script, bundled by esbuild for Chromium. It imports the library through
// its browser entry (`src/index.ts`), so a Node-only import anywhere in that graph breaks
// the bundle (and the test). Node drives the page through the globals set below.
import { sha256 } from '@noble/hashes/sha2.js';
import * as peerHttp from '../../../src/index.js';
import type { Transport } from '../../../src/transport.js';
import { takingTurns } from '../../support/taking-turns.js';
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
  /**
   * The bench's small requests from the page (`bench/bench.ts`, section 7), over the
   * transports the bench left in `state.raw` (an echoing agent), `state.fetchServer` (a
   * fetch-style handler) and `state.coreServer` (a core-API handler). Each round trip is
   * timed here; the variants take turns in blocks of n / 10 after `warmup` calls each.
   */
  smallRequests(spec: SmallRequestSpec): Promise<Record<SmallVariant, number[]>>;
  /** Scratch space for tests and benches (clients, servers, counters). */
  state: Record<string, unknown>;
}

export interface SmallRequestSpec {
  n: number;
  warmup: number;
  options: peerHttp.PeerHttpOptions;
}

export type SmallVariant = 'raw' | 'ping' | 'get' | 'half' | 'core';

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
  async smallRequests({ n, warmup, options }) {
    const { state } = window.pf;
    const raw = state['raw'] as Transport;
    const fetchClient = peerHttp.createPeerFetch(state['fetchServer'] as Transport, options);
    const coreClient = peerHttp.createPeerFetch(state['coreServer'] as Transport, options);
    const ping = new Uint8Array(16).fill(0x50);
    let echoed: (() => void) | undefined;
    raw.onMessage(() => echoed?.());
    const variants: Record<SmallVariant, () => Promise<unknown>> = {
      raw: () =>
        new Promise<void>((resolve) => {
          echoed = resolve;
          raw.send(ping);
        }),
      ping: () => coreClient.ping(),
      // fetch() → a fetch-style handler
      get: async () => (await fetchClient.fetch('http://peer/small')).arrayBuffer(),
      // fetch() → a core-API handler (no Request/Response in the agent)
      half: async () => (await coreClient.fetch('http://peer/small')).arrayBuffer(),
      core: async () => (await coreClient.request({ target: '/small' })).bytes(),
    };
    const times = await takingTurns(variants, n, warmup);
    await fetchClient.close();
    await coreClient.close();
    return times;
  },
  hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  },
  state: {},
};
