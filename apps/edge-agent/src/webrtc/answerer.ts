// WebRTC answerer (node-datachannel): one PeerConnection per offer from `signal/in`.
//
// Per session: admission (session cap; the signaled grant must verify against the pinned
// registrar key before any ICE work), answer + trickled candidates out through `send`,
// remote candidates queued until the offer is applied, then on the first DataChannel the
// channel handshake from @peerfetch/crypto (`deviceHandshake`: device key, pinned registrar
// key, both DTLS fingerprints, replay cache) BEFORE any peer-http frame; only then
// `servePeerHttp` with the router bound to the verified grant (user, role, routes).
// Once connected, the selected pair's path (host / srflx / prflx / relay) goes to the
// registrar (`connected`), which records it in the session's audit trail.
// Closed and freed on: hangup, peer-http idle timeout, ICE/DTLS failure or disconnect,
// grant expiry, handshake failure, channel close, `closeAll` (SIGTERM).
// Every node-datachannel callback catches: a throw inside one aborts the process.
import {
  type ReplayCache,
  type Signer,
  createReplayCache,
  deviceHandshake,
  parseSdpFingerprint,
  verifyGrant,
} from '@peerfetch/crypto';
import {
  type PeerHttpSession,
  nodeDataChannelTransport,
  servePeerHttp,
} from '@peerfetch/peer-http/node';
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import type { SessionAnswerer } from '../agent.js';
import type { SessionContext, SessionHandler } from '../http/router.js';
import { type DeviceIdentity, deviceKeyPair } from '../identity.js';
import type { Logger } from '../log.js';
import type { PathType, SignalIn, SignalOut } from '../mqtt/topics.js';
import { nodeSigner, nodeVerify } from '@peerfetch/crypto/node';

type Offer = Extract<SignalIn, { type: 'offer' }>;
type IceServer = Offer['iceServers'][number];
/** Candidates kept per offer while its grant is verified (a browser sends a handful). */
const MAX_EARLY_CANDIDATES = 64;

export interface WebRtcAnswererOptions {
  identity: DeviceIdentity;
  /** The router bound to a verified session (`createAgentRouter(...)`). */
  handlerFor: (ctx: SessionContext) => SessionHandler;
  send: (message: SignalOut) => Promise<void>;
  log: Logger;
  maxSessions: number;
  idleTimeoutS: number;
  /** Local address to gather on (tests: 127.0.0.1). */
  bindAddress?: string;
  handshakeTimeoutMs?: number;
  now?: () => number;
  /** Creates the PeerConnection (default: node-datachannel's); a seam for unit tests. */
  createPeerConnection?: (
    name: string,
    config: ConstructorParameters<typeof nodeDataChannel.PeerConnection>[1],
  ) => PeerConnection;
}

type SelectedPair = ReturnType<PeerConnection['getSelectedCandidatePair']>;

/** The path of a selected pair: as indirect as its most indirect end (as the console says). */
export function pathOf(pair: SelectedPair): { path: PathType; pair: string } {
  if (!pair) return { path: 'unknown', pair: 'unknown' };
  const types = [pair.local.type, pair.remote.type].map((t) => String(t));
  const path = (['relay', 'srflx', 'prflx', 'host'] as const).find((t) => types.includes(t));
  return { path: path ?? 'unknown', pair: types.join('→') };
}

/** node-datachannel takes ICE servers as URLs with credentials inline. */
export function toNdcIceServers(servers: readonly IceServer[]): string[] {
  const out: string[] = [];
  for (const s of servers) {
    for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) {
      const m = /^(stuns?|turns?):([^?]+)(\?.*)?$/.exec(url);
      if (!m) continue;
      const [, scheme, hostPort, query = ''] = m;
      if ((scheme === 'turn' || scheme === 'turns') && s.username !== undefined) {
        const user = encodeURIComponent(s.username);
        const cred = encodeURIComponent(s.credential ?? '');
        out.push(`${scheme}:${user}:${cred}@${hostPort}${query}`);
      } else {
        out.push(`${scheme}:${hostPort}${query}`);
      }
    }
  }
  return out;
}

class Session {
  pc: PeerConnection | undefined;
  channel: DataChannel | undefined;
  http: PeerHttpSession | undefined;
  remoteSet = false;
  pending: { candidate: string; mid: string }[] = [];
  timers: NodeJS.Timeout[] = [];
  closed = false;
  pathReported = false;
  inFlight = 0;
  lastActivity = 0;
  /** Setup timing: ms from the offer's arrival to the first time each step happened. */
  readonly setupMs: Record<string, number> = {};
  constructor(
    readonly id: string,
    readonly offerSdp: string,
    private readonly t0: number,
  ) {}
  /** When the offer arrived (Unix ms, sub-ms precision): lines the steps up with the peer's. */
  get offerAt(): number {
    return Math.round((performance.timeOrigin + this.t0) * 10) / 10;
  }
  mark(step: string): void {
    this.setupMs[step] ??= Math.round((performance.now() - this.t0) * 10) / 10;
  }
}

export class WebRtcAnswerer implements SessionAnswerer {
  private readonly sessions = new Map<string, Session>();
  /**
   * Candidates that arrive while their offer's grant is being verified: a browser trickles
   * candidates right after its offer, and dropping them can leave ICE without a usable pair.
   * One entry per offer in verification, at most MAX_EARLY_CANDIDATES each.
   */
  private readonly early = new Map<string, { candidate: string; mid: string }[]>();
  private readonly replay: ReplayCache = createReplayCache();
  private readonly now: () => number;
  /** The device key as a node:crypto signer, made once (not per session). */
  private readonly deviceKey: Signer;

  constructor(private readonly o: WebRtcAnswererOptions) {
    this.now = o.now ?? Date.now;
    this.deviceKey = nodeSigner(deviceKeyPair(o.identity));
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async handle(message: SignalIn): Promise<void> {
    switch (message.type) {
      case 'offer':
        return this.offer(message);
      case 'candidate': {
        const s = this.sessions.get(message.sessionId);
        if (!s) {
          const queued = this.early.get(message.sessionId);
          if (queued && queued.length < MAX_EARLY_CANDIDATES) {
            queued.push({ candidate: message.candidate, mid: message.mid });
          }
          return;
        }
        if (s.closed) return;
        this.safely(s, () => {
          s.mark('remoteCandidate');
          if (s.remoteSet) s.pc?.addRemoteCandidate(message.candidate, message.mid);
          else s.pending.push({ candidate: message.candidate, mid: message.mid });
        });
        return;
      }
      case 'hangup': {
        const s = this.sessions.get(message.sessionId);
        if (s) this.close(s, 'hangup', false);
        return;
      }
    }
  }

  private async offer(offer: Offer): Promise<void> {
    const { identity, log } = this.o;
    // Duplicate delivery (QoS 1), also while the first copy's grant is being verified.
    if (this.sessions.has(offer.sessionId) || this.early.has(offer.sessionId)) return;
    if (this.sessions.size >= this.o.maxSessions) {
      log.warn(
        { sessionId: offer.sessionId, max: this.o.maxSessions },
        'session refused: cap reached',
      );
      await this.o.send({ type: 'error', sessionId: offer.sessionId, reason: 'TOO_MANY_SESSIONS' });
      return;
    }
    const t0 = performance.now();
    const registrarKey = identity.registrarKey;
    this.early.set(offer.sessionId, []);
    try {
      await verifyGrant(offer.grant, {
        registrarKey,
        deviceId: identity.deviceId,
        now: this.now(),
        verifySignature: nodeVerify,
      });
    } catch (err) {
      this.early.delete(offer.sessionId);
      const code = (err as { code?: string }).code ?? 'GRANT_INVALID';
      log.warn({ sessionId: offer.sessionId, code }, 'session refused: grant');
      await this.o.send({ type: 'error', sessionId: offer.sessionId, reason: code });
      return;
    }
    const s = new Session(offer.sessionId, offer.sdp, t0);
    s.mark('grantVerified');
    s.pending.push(...(this.early.get(s.id) ?? []));
    this.early.delete(s.id);
    this.sessions.set(s.id, s);
    let pc: PeerConnection;
    try {
      const create =
        this.o.createPeerConnection ??
        ((name, config) => new nodeDataChannel.PeerConnection(name, config));
      pc = create(`pf-${s.id}`, {
        iceServers: toNdcIceServers(offer.iceServers),
        ...(this.o.bindAddress !== undefined ? { bindAddress: this.o.bindAddress } : {}),
      });
    } catch (err) {
      this.sessions.delete(s.id);
      log.error({ err: String(err) }, 'cannot create PeerConnection');
      await this.o.send({ type: 'error', sessionId: s.id, reason: 'INTERNAL' });
      return;
    }
    s.pc = pc;
    s.mark('peerConnection');
    pc.onLocalDescription((sdp, type) =>
      this.safely(s, () => {
        if (type !== 'answer') return;
        s.mark('answer');
        void this.sendSafe({ type: 'answer', sessionId: s.id, sdp }).then(() =>
          s.mark('answerPublished'),
        );
      }),
    );
    pc.onLocalCandidate((candidate, mid) =>
      this.safely(s, () => {
        s.mark('localCandidate');
        void this.sendSafe({ type: 'candidate', sessionId: s.id, candidate, mid });
      }),
    );
    pc.onIceStateChange((state) => this.safely(s, () => s.mark(`ice ${state}`)));
    pc.onStateChange((state) =>
      this.safely(s, () => {
        s.mark(state);
        if (state === 'connected' && !s.pathReported) {
          // which way the bytes go (host / srflx / relay): for the session's audit entry
          s.pathReported = true;
          const path = pathOf(pc.getSelectedCandidatePair());
          log.info({ sessionId: s.id, ...path }, 'session connected');
          void this.sendSafe({ type: 'connected', sessionId: s.id, ...path });
        } else if (state === 'failed' || state === 'disconnected' || state === 'closed') {
          this.close(s, `connection ${state}`, state !== 'closed');
        }
      }),
    );
    pc.onDataChannel((dc) =>
      this.safely(s, () => {
        if (s.channel) {
          dc.close();
          return;
        }
        s.channel = dc;
        s.mark('channel');
        this.startChannel(s, dc);
      }),
    );
    // a session that never gets a verified channel is dropped
    s.timers.push(
      setTimeout(() => {
        if (!s.http) this.close(s, 'setup timeout', true);
      }, 30_000),
    );
    this.safely(s, () => {
      pc.setRemoteDescription(offer.sdp, 'offer');
      s.remoteSet = true;
      for (const c of s.pending.splice(0)) pc.addRemoteCandidate(c.candidate, c.mid);
      s.mark('offerApplied');
    });
    log.info({ sessionId: s.id, active: this.sessions.size }, 'session offer accepted');
  }

  private startChannel(s: Session, dc: DataChannel): void {
    const transport = nodeDataChannelTransport(dc);
    const local = s.pc?.localDescription()?.sdp;
    const remote = s.pc?.remoteDescription()?.sdp ?? s.offerSdp;
    if (local === undefined) {
      this.close(s, 'no local description', true);
      return;
    }
    const { identity, log } = this.o;
    deviceHandshake(transport, {
      deviceId: identity.deviceId,
      deviceKey: this.deviceKey,
      registrarKey: identity.registrarKey,
      localFingerprint: parseSdpFingerprint(local),
      remoteFingerprint: parseSdpFingerprint(remote),
      replayCache: this.replay,
      now: this.now,
      ...(this.o.handshakeTimeoutMs !== undefined ? { timeoutMs: this.o.handshakeTimeoutMs } : {}),
    }).then(
      ({ grant }) => {
        if (s.closed) return;
        const ctx: SessionContext = {
          userId: grant.sub,
          role: grant.role,
          deviceId: identity.deviceId,
          sessionId: s.id,
          routes: grant.role === 'admin' ? undefined : grant.routes,
        };
        const handler = this.o.handlerFor(ctx);
        s.lastActivity = this.now();
        s.http = servePeerHttp(transport, (request) => this.track(s, handler, request), {
          onError: (err) => log.warn({ sessionId: s.id, err: String(err) }, 'handler error'),
        });
        // application idle: no request in flight and none started for idleTimeoutS
        // (peer-http's own idleTimeout, default 45 s, only catches a silent peer: keep-alive
        // PINGs keep a live but unused session open)
        const idleMs = this.o.idleTimeoutS * 1000;
        s.timers.push(
          setInterval(
            () => {
              if (s.inFlight === 0 && this.now() - s.lastActivity >= idleMs) {
                this.close(s, 'idle timeout', true);
              }
            },
            Math.min(idleMs, 5000),
          ),
        );
        const untilExpiry = grant.exp * 1000 - this.now();
        s.timers.push(
          setTimeout(() => this.close(s, 'grant expired', true), Math.max(0, untilExpiry)),
        );
        s.http.closed.then(
          () => this.close(s, s.http?.closeReason?.message ?? 'channel closed', true),
          () => this.close(s, 'channel closed', true),
        );
        s.mark('verified');
        log.info({ sessionId: s.id, user: grant.sub, role: grant.role }, 'session verified');
      },
      (err: unknown) => {
        log.warn({ sessionId: s.id, code: (err as { code?: string }).code }, 'handshake failed');
        this.close(s, `handshake failed: ${(err as { code?: string }).code ?? 'ERROR'}`, true);
      },
    );
  }

  /** Counts requests in flight (until the response body ends) for the idle timer. */
  private async track(s: Session, handler: SessionHandler, request: Request): Promise<Response> {
    if (s.setupMs['firstRequest'] === undefined) {
      s.mark('firstRequest');
      // where the setup went, agent clock (the system bench reads it at LOG_LEVEL=debug)
      this.o.log.debug(
        { sessionId: s.id, offerAt: s.offerAt, setupMs: s.setupMs },
        'session setup timing',
      );
    }
    s.inFlight += 1;
    s.lastActivity = this.now();
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      s.inFlight -= 1;
      s.lastActivity = this.now();
    };
    let response: Response;
    try {
      response = await handler(request);
    } catch (err) {
      done();
      throw err;
    }
    if (response.body === null) {
      done();
      return response;
    }
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const { value, done: end } = await reader.read();
            if (end) {
              done();
              controller.close();
            } else {
              controller.enqueue(value);
            }
          } catch (err) {
            done();
            controller.error(err);
          }
        },
        async cancel(reason) {
          done();
          await reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  private sendSafe(message: SignalOut): Promise<void> {
    return this.o.send(message).catch((err: unknown) => {
      this.o.log.warn({ err: String(err), type: message.type }, 'signal send failed');
    });
  }

  private safely(s: Session, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.warn({ sessionId: s.id, err: String(err) }, 'webrtc callback failed');
      // close on the next tick: never from inside a node-datachannel callback
      setImmediate(() => this.close(s, 'internal error', true));
    }
  }

  private close(s: Session, reason: string, notify: boolean): void {
    if (s.closed) return;
    s.closed = true;
    this.sessions.delete(s.id);
    for (const t of s.timers) clearTimeout(t); // also clears intervals
    const http = s.http;
    const pc = s.pc;
    const dc = s.channel;
    setImmediate(() => {
      try {
        if (http) void http.close().catch(() => undefined);
        dc?.close();
        pc?.close();
      } catch {
        // already closed
      }
    });
    if (notify) void this.sendSafe({ type: 'hangup', sessionId: s.id, reason });
    this.o.log.info({ sessionId: s.id, reason, active: this.sessions.size }, 'session closed');
  }

  closeAll(reason: string): Promise<void> {
    for (const s of [...this.sessions.values()]) this.close(s, reason, true);
    return new Promise((r) => setImmediate(r));
  }
}
