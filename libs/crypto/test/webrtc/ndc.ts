// node-datachannel helpers for the WebRTC tests: loopback peers, a signaling path a test
// can tamper with, and a HandshakeChannel over a DataChannel. Every node-datachannel
// callback catches: a throw inside one aborts the process.
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import type { HandshakeChannel } from '../../src/index.js';

export function newPeer(name: string): PeerConnection {
  return new nodeDataChannel.PeerConnection(name, { iceServers: [], bindAddress: '127.0.0.1' });
}

export type Signal =
  { type: 'offer' | 'answer'; sdp: string } | { type: 'candidate'; candidate: string; mid: string };

/**
 * One end's signaling: emits its local description and candidates through `send`, applies
 * what `receive` gets (queueing candidates until the remote description is set), and
 * remembers the remote SDP exactly as received (what the handshake must compare). Its own
 * candidates go out only after it applied the remote description: libdatachannel gives ICE
 * the remote credentials before it records the remote fingerprint, so a peer already
 * checking can finish ICE + DTLS inside setRemoteDescription and fail the fingerprint
 * check (see apps/edge-agent/test/system/harness.ts).
 */
export class Endpoint {
  private remoteSet = false;
  private readonly pending: { candidate: string; mid: string }[] = [];
  private readonly outgoing: Signal[] = [];
  remoteSdp: string | undefined;
  readonly errors: unknown[] = [];
  readonly states: string[] = [];
  private stateWaiters: { states: string[]; resolve: (s: string) => void }[] = [];

  private readonly send: (signal: Signal) => void;

  constructor(
    readonly pc: PeerConnection,
    send: (signal: Signal) => void,
  ) {
    pc.onLocalDescription((sdp, type) =>
      this.safely(() => send({ type: type === 'offer' ? 'offer' : 'answer', sdp })),
    );
    pc.onLocalCandidate((candidate, mid) =>
      this.safely(() => {
        if (this.remoteSet) send({ type: 'candidate', candidate, mid });
        else this.outgoing.push({ type: 'candidate', candidate, mid });
      }),
    );
    this.send = send;
    pc.onStateChange((state) =>
      this.safely(() => {
        this.states.push(state);
        this.stateWaiters = this.stateWaiters.filter((w) => {
          if (!w.states.includes(state)) return true;
          w.resolve(state);
          return false;
        });
      }),
    );
  }

  receive(signal: Signal): void {
    this.safely(() => {
      if (signal.type === 'candidate') {
        if (this.remoteSet) this.pc.addRemoteCandidate(signal.candidate, signal.mid);
        else this.pending.push(signal);
        return;
      }
      this.remoteSdp = signal.sdp;
      this.pc.setRemoteDescription(signal.sdp, signal.type);
      this.remoteSet = true;
      for (const c of this.pending.splice(0)) this.pc.addRemoteCandidate(c.candidate, c.mid);
      for (const c of this.outgoing.splice(0)) this.send(c);
    });
  }

  /** The SDP this end generated (its own certificate's fingerprint is in it). */
  localSdp(): string {
    const description = this.pc.localDescription();
    if (!description) throw new Error('no local description yet');
    return description.sdp;
  }

  /** The remote SDP as the stack applied it (what the handshake should use). */
  appliedRemoteSdp(): string {
    const description = this.pc.remoteDescription();
    if (!description) throw new Error('no remote description yet');
    return description.sdp;
  }

  /** Resolves when the connection reaches one of `states`. */
  waitForState(states: string[]): Promise<string> {
    const seen = this.states.find((s) => states.includes(s));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.stateWaiters.push({ states, resolve }));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.errors.push(error);
    }
  }
}

/** Resolves with the channel once it is open. */
export function whenOpen(channel: DataChannel): Promise<DataChannel> {
  return new Promise((resolve) => {
    if (channel.isOpen()) resolve(channel);
    else
      channel.onOpen(() => {
        try {
          resolve(channel);
        } catch {
          // never throws; keeps node-datachannel safe
        }
      });
  });
}

/** Resolves with the first DataChannel the remote side opens on `pc`. */
export function incomingChannel(pc: PeerConnection): Promise<DataChannel> {
  return new Promise((resolve) => {
    pc.onDataChannel((dc) => {
      try {
        resolve(dc);
      } catch {
        // never throws
      }
    });
  });
}

function toBytes(message: string | Buffer | ArrayBuffer): Uint8Array {
  if (typeof message === 'string') return new TextEncoder().encode(message);
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  return new Uint8Array(message.buffer, message.byteOffset, message.byteLength).slice();
}

/**
 * A HandshakeChannel over a node-datachannel DataChannel. Must be created before the first
 * message can arrive (messages received while no listener is set are queued).
 */
export function channelOf(dc: DataChannel): HandshakeChannel & { readonly queued: Uint8Array[] } {
  let listener: ((m: Uint8Array) => void) | undefined;
  let closeListener: ((error?: Error) => void) | undefined;
  const queued: Uint8Array[] = [];
  dc.onMessage((message) => {
    try {
      const bytes = toBytes(message);
      if (listener) listener(bytes);
      else queued.push(bytes);
    } catch {
      // a listener's error must not abort the process
    }
  });
  dc.onClosed(() => {
    try {
      closeListener?.();
    } catch {
      // idem
    }
  });
  return {
    queued,
    send(message) {
      dc.sendMessageBinary(message);
    },
    onMessage(l) {
      listener = l;
      while (listener && queued.length > 0) {
        const next = queued.shift();
        if (next) listener(next);
      }
    },
    onClose(l) {
      closeListener = l;
    },
    close() {
      try {
        dc.close();
      } catch {
        // already closed
      }
    },
  };
}

export function closeAll(...peers: PeerConnection[]): void {
  for (const pc of peers) {
    try {
      pc.close();
    } catch {
      // already closed
    }
  }
}
