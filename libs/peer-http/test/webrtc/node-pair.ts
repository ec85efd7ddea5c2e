// Two node-datachannel PeerConnections wired together on loopback, for tests and benches.
//
// Trickle ICE: node-datachannel puts no candidates in its SDP; each side's candidates are
// passed to the other and queued there until its remote description is set. `bindAddress`
// 127.0.0.1 and no ICE servers give one usable host candidate (see FACTS.md). Every
// node-datachannel callback catches: a throw inside one aborts the process.
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import type { Transport } from '../../src/transport.js';
import { nodeDataChannelTransport } from '../../src/node/node-datachannel.js';

export function loopbackRtcConfig(
  extra: Partial<nodeDataChannel.RtcConfig> = {},
): nodeDataChannel.RtcConfig {
  return { iceServers: [], bindAddress: '127.0.0.1', ...extra };
}

export interface NodePair {
  a: Transport;
  b: Transport;
  /** The raw channels (a = offerer's, b = answerer's), for tests of the adapter itself. */
  channels: { a: DataChannel; b: DataChannel };
  peers: { a: PeerConnection; b: PeerConnection };
  /** Milliseconds from createDataChannel (offer) to both channels open. */
  setupMs: number;
  close(): Promise<void>;
}

export interface ConnectOptions {
  label?: string;
  timeoutMs?: number;
  /** Extra PeerConnection settings (e.g. `maxMessageSize`) for both sides. */
  rtc?: Partial<nodeDataChannel.RtcConfig>;
  /**
   * DTLS role the offer declares. libdatachannel offers `actpass` and its answer picks
   * `active`: the answerer sends the first DTLS flight, often before the offerer is ready to
   * receive it, and the handshake then waits for the 1 s retransmission (libdatachannel PR
   * #1554). Declaring `active` in the offer makes the offerer the DTLS client instead, which
   * all but removes that stall (see docs/performance.md). Default `'active'`; `'actpass'`
   * leaves the offer untouched.
   */
  offerSetup?: SetupRole;
}

export type SetupRole = 'active' | 'passive' | 'actpass';

/** Rewrites `a=setup:actpass` in an offer to force the DTLS role. */
export function forceOfferSetup(sdp: string, role: SetupRole): string {
  if (role === 'actpass') return sdp;
  return sdp.replace(/^a=setup:actpass(\r?)$/gm, `a=setup:${role}$1`);
}

/**
 * Signaling glue for one side: forwards local SDP/candidates to the other side and queues
 * remote candidates until the remote description is set. Local candidates go out only once
 * this side has applied the remote description: libdatachannel gives ICE the remote
 * credentials before it records the remote fingerprint, so a peer already checking can
 * complete ICE and DTLS inside setRemoteDescription and fail the fingerprint check
 * ("unknown CA"; seen under CPU load, see apps/edge-agent/test/system/harness.ts).
 */
class Side {
  private remoteSet = false;
  private readonly pending: { candidate: string; mid: string }[] = [];
  private readonly outgoing: { candidate: string; mid: string }[] = [];
  other!: Side;
  failure: ((error: Error) => void) | undefined;

  constructor(
    readonly pc: PeerConnection,
    offerSetup: SetupRole = 'actpass',
  ) {
    pc.onLocalDescription((sdp, type) => {
      this.safely(() =>
        this.other.remoteDescription(
          type === 'offer' ? forceOfferSetup(sdp, offerSetup) : sdp,
          type,
        ),
      );
    });
    pc.onLocalCandidate((candidate, mid) => {
      this.safely(() => {
        if (this.remoteSet) this.other.remoteCandidate(candidate, mid);
        else this.outgoing.push({ candidate, mid });
      });
    });
  }

  remoteDescription(sdp: string, type: nodeDataChannel.DescriptionType): void {
    this.pc.setRemoteDescription(sdp, type);
    this.remoteSet = true;
    for (const { candidate, mid } of this.pending.splice(0)) {
      this.pc.addRemoteCandidate(candidate, mid);
    }
    for (const { candidate, mid } of this.outgoing.splice(0)) {
      this.other.remoteCandidate(candidate, mid);
    }
  }

  remoteCandidate(candidate: string, mid: string): void {
    if (this.remoteSet) this.pc.addRemoteCandidate(candidate, mid);
    else this.pending.push({ candidate, mid });
  }

  safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.failure?.(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** Opens a reliable, ordered DataChannel between two node-datachannel peers on loopback. */
export async function connectNodePair(options: ConnectOptions = {}): Promise<NodePair> {
  const { label = 'peer-http', timeoutMs = 10_000 } = options;
  const config = loopbackRtcConfig(options.rtc);
  const pcA = new nodeDataChannel.PeerConnection('a', config);
  const pcB = new nodeDataChannel.PeerConnection('b', config);
  const a = new Side(pcA, options.offerSetup ?? 'active');
  const b = new Side(pcB);
  a.other = b;
  b.other = a;

  const closePeers = (): void => {
    for (const pc of [pcA, pcB]) {
      try {
        pc.close();
      } catch {
        // Closing twice is harmless.
      }
    }
  };

  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const channels = await new Promise<{ a: DataChannel; b: DataChannel }>((resolve, reject) => {
      let chA: DataChannel | undefined;
      let chB: DataChannel | undefined;
      const settle = (): void => {
        if (chA !== undefined && chB !== undefined) resolve({ a: chA, b: chB });
      };
      a.failure = reject;
      b.failure = reject;
      timer = setTimeout(
        () => reject(new Error(`DataChannel did not open within ${timeoutMs} ms`)),
        timeoutMs,
      );
      pcB.onDataChannel((dc) => {
        b.safely(() => {
          // The answerer's channel is announced open; wrap at once so nothing is lost.
          chB = dc;
          settle();
        });
      });
      const dc = pcA.createDataChannel(label);
      dc.onOpen(() => {
        a.safely(() => {
          chA = dc;
          settle();
        });
      });
    });
    const setupMs = performance.now() - started;
    const ta = nodeDataChannelTransport(channels.a);
    const tb = nodeDataChannelTransport(channels.b);
    return {
      a: ta,
      b: tb,
      channels,
      peers: { a: pcA, b: pcB },
      setupMs,
      close: async () => {
        ta.close();
        tb.close();
        closePeers();
        // Let libdatachannel's close callbacks reach JavaScript before the next test.
        await new Promise((resolve) => setTimeout(resolve, 10));
      },
    };
  } catch (error) {
    closePeers();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Releases libdatachannel's threads; call once, after the last connection closed. */
export function cleanupNodeDataChannel(): void {
  nodeDataChannel.cleanup();
}
