// A direct session to one device: grant → WebRTC offer through the registrar's signaling
// → DataChannel → channel handshake (both DTLS fingerprints from the APPLIED descriptions,
// the device key checked against its trust-on-first-use pin) → peer-http.
//
//   idle → requesting-grant → connecting → handshaking → verified → closed
//                    ╰──────────────┴─────────────┴─────────────┴──→ failed (typed reason)
//
// A device key that differs from the pin fails with DEVICE_KEY_CHANGED and never connects;
// only `trustNewKey()` (an explicit user decision) forgets the pin and connects again.
import {
  CryptoError,
  type DeviceKeyPins,
  type KeyFingerprint,
  type Signer,
  consoleHandshake,
  exportPublicJwk,
  generateSessionSigner,
  keyFingerprint,
  parseSdpFingerprint,
} from '@peerfetch/crypto';
import {
  type PeerHttpSession,
  type Transport,
  createPeerFetch,
  rtcDataChannelTransport,
} from '@peerfetch/peer-http';
import type { GrantRole, SessionRequest, SessionTicket } from '../api-types.js';
import type { PathType, SignalingChannel, SignalingFactory } from './signaling.js';

export type SessionState =
  'idle' | 'requesting-grant' | 'connecting' | 'handshaking' | 'verified' | 'closed' | 'failed';

export type FailureReason =
  /** The registrar refused a grant (no access, device revoked, signed out). */
  | 'GRANT_REFUSED'
  /** The registrar's signaling failed or refused the offer. */
  | 'SIGNALING_FAILED'
  /** The device answered with a refusal or hung up before the channel was verified. */
  | 'DEVICE_REFUSED'
  /** No direct path (ICE/DTLS failed) or the channel closed during setup. */
  | 'CONNECTION_FAILED'
  | 'TIMEOUT'
  /** The device presented another identity key than the pinned one. */
  | 'DEVICE_KEY_CHANGED'
  /** Any other handshake failure (possible man-in-the-middle, bad grant…). */
  | 'HANDSHAKE_FAILED'
  /** The verified session dropped. */
  | 'CONNECTION_LOST';

export interface SessionFailure {
  reason: FailureReason;
  /** The underlying code (registrar error code, CryptoErrorCode…), when there is one. */
  code?: string;
  message: string;
}

export type SessionEvent =
  | { type: 'state'; state: SessionState }
  | { type: 'stats'; path: PathType | null; rttMs: number | null };

export interface DeviceSessionOptions {
  deviceId: string;
  requestSession: (request: SessionRequest) => Promise<SessionTicket>;
  openSignaling: SignalingFactory;
  createPeerConnection: (config: RTCConfiguration) => RTCPeerConnection;
  pins: DeviceKeyPins;
  /** DataChannel → Transport (default: rtcDataChannelTransport). */
  transportFor?: (channel: RTCDataChannel, pc: RTCPeerConnection) => Transport;
  /** From Connect to a verified channel. Default 30 s. */
  setupTimeoutMs?: number;
  sessionSigner?: () => Promise<Signer>;
}

const CHANNEL_LABEL = 'peer-http';

class SetupError extends Error {
  constructor(readonly failure: SessionFailure) {
    super(failure.message);
  }
}

const fail = (reason: FailureReason, message: string, code?: string): SetupError =>
  new SetupError({ reason, message, ...(code !== undefined ? { code } : {}) });

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The candidate types of the selected pair, from `getStats()`. */
export function selectedPath(stats: RTCStatsReport): PathType | null {
  let pairId: string | undefined;
  stats.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  let pair: { localCandidateId?: string; remoteCandidateId?: string } | undefined;
  stats.forEach(
    (s: {
      type: string;
      id: string;
      state?: string;
      nominated?: boolean;
      selected?: boolean;
      localCandidateId?: string;
      remoteCandidateId?: string;
    }) => {
      if (s.type !== 'candidate-pair') return;
      if (
        pairId !== undefined
          ? s.id === pairId
          : s.selected || (s.nominated && s.state === 'succeeded')
      ) {
        pair = s;
      }
    },
  );
  if (!pair) return null;
  const typeOf = (id: string | undefined): string | undefined =>
    id === undefined
      ? undefined
      : (stats.get(id) as { candidateType?: string } | undefined)?.candidateType;
  const types = [typeOf(pair.localCandidateId), typeOf(pair.remoteCandidateId)];
  // the path is as indirect as its most indirect end
  for (const t of ['relay', 'srflx', 'prflx', 'host'] as const) if (types.includes(t)) return t;
  return 'unknown';
}

/**
 * Setup steps in order: grant received, signaling socket open, offer sent, answer received,
 * ICE connected, data channel open, handshake verified.
 */
export type SetupPhase =
  'grant' | 'signaling' | 'offer' | 'answer' | 'ice' | 'channel' | 'verified';

export class DeviceSession {
  state: SessionState = 'idle';
  failure: SessionFailure | null = null;
  sessionId: string | null = null;
  role: GrantRole | null = null;
  path: PathType | null = null;
  rttMs: number | null = null;
  /** The verified device key's fingerprint (or the pinned one on DEVICE_KEY_CHANGED). */
  deviceKey: KeyFingerprint | null = null;
  /** True when this session pinned the key for the first time. */
  firstSight = false;
  http: PeerHttpSession | null = null;
  /**
   * Where the last connect spent its time: milliseconds from its start to the end of each
   * setup step (grant, signaling socket, offer sent, answer, ICE connected, data channel
   * open, handshake). Shown
   * nowhere by default; the standalone client and the system benchmark report it.
   */
  phases: Partial<Record<SetupPhase, number>> = {};

  private readonly listeners = new Set<(event: SessionEvent) => void>();
  private pc: RTCPeerConnection | null = null;
  private signaling: SignalingChannel | null = null;
  private attempt = 0;

  constructor(private readonly o: DeviceSessionOptions) {}

  get deviceId(): string {
    return this.o.deviceId;
  }

  /** Subscribes to state and stats changes; returns the unsubscribe function. */
  on(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get busy(): boolean {
    return ['requesting-grant', 'connecting', 'handshaking'].includes(this.state);
  }

  /** Connects (again). Resolves when verified; a failure ends in `failed` (no rejection). */
  async connect(): Promise<void> {
    if (this.busy || this.state === 'verified') return;
    const attempt = ++this.attempt;
    this.failure = null;
    this.path = null;
    this.rttMs = null;
    this.firstSight = false;
    this.sessionId = null;
    this.role = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(fail('TIMEOUT', 'The device did not connect in time.')),
        this.o.setupTimeoutMs ?? 30_000,
      );
    });
    try {
      await Promise.race([this.setup(attempt), timeout]);
    } catch (error) {
      if (attempt !== this.attempt) return; // superseded by close()/another connect
      this.attempt++; // a setup still running in the background (timeout) must not finish
      const failure =
        error instanceof SetupError
          ? error.failure
          : { reason: 'CONNECTION_FAILED' as const, message: describe(error) };
      this.teardown(failure.code ?? failure.reason);
      this.failure = failure;
      this.setState('failed');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets the pinned device key (explicit user decision) and connects again. */
  async trustNewKey(): Promise<void> {
    this.o.pins.forget(this.o.deviceId);
    this.deviceKey = null;
    this.state = 'idle';
    await this.connect();
  }

  /** Measures the round trip over the verified channel and refreshes the path type. */
  async refreshStats(): Promise<void> {
    const http = this.http;
    const pc = this.pc;
    if (!http || !pc || this.state !== 'verified') return;
    try {
      this.rttMs = await http.ping();
      this.path = selectedPath(await pc.getStats());
    } catch {
      return; // the session is closing: its close handler reports it
    }
    this.emit({ type: 'stats', path: this.path, rttMs: this.rttMs });
  }

  /** Ends the session (hangup, channel, connection). Idempotent. */
  async close(): Promise<void> {
    this.attempt++;
    if (this.state === 'idle' || this.state === 'closed' || this.state === 'failed') {
      this.teardown('closed by the user');
      return;
    }
    const http = this.http;
    this.teardown('closed by the user');
    this.setState('closed');
    if (http) await http.close().catch(() => undefined);
  }

  private async setup(attempt: number): Promise<void> {
    const { deviceId } = this.o;
    const started = performance.now();
    this.phases = {};
    const mark = (phase: SetupPhase): void => {
      this.phases[phase] = Math.round((performance.now() - started) * 10) / 10;
    };
    const current = (): void => {
      if (attempt !== this.attempt) throw fail('CONNECTION_FAILED', 'superseded');
    };
    this.setState('requesting-grant');
    // The signaling socket needs no session (the offer names it): it opens while the grant
    // is requested. Once open it belongs to this attempt (teardown closes it), or is closed
    // at once when the attempt is already over.
    // (A factory that throws rejects here: reported like a socket that failed to open.)
    const signalingOpen = new Promise<SignalingChannel>((resolve) =>
      resolve(this.o.openSignaling()),
    ).then((s) => {
      if (attempt === this.attempt) this.signaling = s;
      else s.close();
      return s;
    });
    signalingOpen.catch(() => undefined); // reported below, after the grant's outcome
    const signer = await (this.o.sessionSigner ?? generateSessionSigner)();
    let ticket: SessionTicket;
    try {
      ticket = await this.o.requestSession({
        deviceId,
        sessionKey: exportPublicJwk(signer.publicKey),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw fail('GRANT_REFUSED', describe(error), typeof code === 'string' ? code : undefined);
    }
    current();
    mark('grant');
    this.sessionId = ticket.sessionId;
    this.role = ticket.role ?? null;

    this.setState('connecting');
    let signaling: SignalingChannel;
    try {
      signaling = await signalingOpen;
    } catch (error) {
      throw fail('SIGNALING_FAILED', describe(error));
    }
    current();
    mark('signaling');
    const pc = this.o.createPeerConnection({ iceServers: ticket.iceServers });
    this.pc = pc;

    let rejectSetup: (e: SetupError) => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => (rejectSetup = reject));
    aborted.catch(() => undefined);
    signaling.onHangup((reason) => {
      if (this.state === 'verified') this.lost(`The device ended the session (${reason}).`);
      else rejectSetup(fail('DEVICE_REFUSED', `The session was refused (${reason}).`, reason));
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      const s = pc.iceConnectionState;
      if ((s === 'connected' || s === 'completed') && this.phases.ice === undefined) mark('ice');
    });
    pc.addEventListener('connectionstatechange', () => {
      const s = pc.connectionState;
      if (s !== 'failed' && s !== 'closed') return;
      if (this.state === 'verified' && this.pc === pc)
        this.lost('The connection to the device was lost.');
      else rejectSetup(fail('CONNECTION_FAILED', `No direct connection to the device (${s}).`));
    });

    const channel = pc.createDataChannel(CHANNEL_LABEL, { ordered: true });
    const opened = new Promise<void>((resolve, reject) => {
      channel.addEventListener('open', () => resolve(), { once: true });
      channel.addEventListener(
        'close',
        () => reject(fail('CONNECTION_FAILED', 'The data channel closed during setup.')),
        { once: true },
      );
    });
    opened.catch(() => undefined);

    // trickle: candidates are sent as found; remote ones wait for the answer
    pc.addEventListener('icecandidate', (e) => {
      const c = e.candidate;
      if (c && c.candidate) signaling.sendCandidate({ candidate: c.candidate, mid: c.sdpMid });
    });
    const pending: RTCIceCandidateInit[] = [];
    let answered = false;
    signaling.onCandidate(({ candidate, mid }) => {
      const init: RTCIceCandidateInit = { candidate, sdpMid: mid };
      if (answered) void pc.addIceCandidate(init).catch(() => undefined);
      else pending.push(init);
    });
    const answer = new Promise<string>((resolve) => signaling.onAnswer(resolve));

    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription;
    if (!offer) throw fail('CONNECTION_FAILED', 'No local description.');
    signaling.sendOffer({
      sessionId: ticket.sessionId,
      deviceId,
      grant: ticket.grant,
      sdp: offer.sdp,
    });
    mark('offer');
    const answerSdp = await Promise.race([answer, aborted]);
    current();
    mark('answer');
    await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    answered = true;
    for (const c of pending.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
    await Promise.race([opened, aborted]);
    current();
    mark('channel');

    this.setState('handshaking');
    // fingerprints from the descriptions actually applied, never from what was signaled
    const local = pc.localDescription?.sdp;
    const remote = pc.remoteDescription?.sdp;
    if (!local || !remote) throw fail('CONNECTION_FAILED', 'Descriptions missing after setup.');
    const transport = (this.o.transportFor ?? ((dc) => rtcDataChannelTransport(dc)))(channel, pc);
    let pinned: Uint8Array | undefined;
    try {
      pinned = this.o.pins.get(deviceId);
    } catch (error) {
      throw fail('HANDSHAKE_FAILED', `The stored device key is unreadable: ${describe(error)}`);
    }
    let result: Awaited<ReturnType<typeof consoleHandshake>>;
    try {
      result = await Promise.race([
        consoleHandshake(transport, {
          deviceId,
          grant: ticket.grant,
          sessionKey: signer,
          localFingerprint: parseSdpFingerprint(local),
          remoteFingerprint: parseSdpFingerprint(remote),
          ...(pinned ? { pinnedDeviceKey: pinned } : {}),
        }),
        aborted,
      ]);
    } catch (error) {
      if (error instanceof SetupError) throw error;
      const code = error instanceof CryptoError ? error.code : undefined;
      if (code === 'DEVICE_KEY_CHANGED' && pinned) {
        this.deviceKey = keyFingerprint(pinned);
        throw fail(
          'DEVICE_KEY_CHANGED',
          'The device presented a different identity key than the one pinned on an earlier ' +
            'session. This is a possible man-in-the-middle, or the device was re-enrolled.',
          code,
        );
      }
      throw fail('HANDSHAKE_FAILED', describe(error), code);
    }
    current();
    if (result.firstSight) this.o.pins.set(deviceId, result.deviceKey);
    this.firstSight = result.firstSight;
    this.deviceKey = result.deviceKeyFingerprint;
    const http = createPeerFetch(transport);
    this.http = http;
    mark('verified');
    void http.closed.then(() => {
      if (this.http === http && this.state === 'verified') this.lost('The data channel closed.');
    });
    this.setState('verified');
    // the path is informative: found and reported without holding up the caller
    void this.reportPath(pc, signaling);
  }

  /** The selected path (to the registrar's audit log), then a first round trip. */
  private async reportPath(pc: RTCPeerConnection, signaling: SignalingChannel): Promise<void> {
    try {
      const path = selectedPath(await pc.getStats());
      if (this.pc !== pc) return;
      this.path = path;
      if (path) signaling.sendConnected?.(path);
    } catch {
      // stats are informative only
    }
    await this.refreshStats();
  }

  private lost(message: string): void {
    this.attempt++;
    this.teardown('connection lost');
    this.failure = { reason: 'CONNECTION_LOST', message };
    this.setState('failed');
  }

  private teardown(reason: string): void {
    const { pc, signaling, http } = this;
    this.pc = null;
    this.signaling = null;
    this.http = null;
    signaling?.close(reason);
    if (http) void http.close().catch(() => undefined);
    try {
      pc?.close();
    } catch {
      // already closed
    }
  }

  private setState(state: SessionState): void {
    this.state = state;
    this.emit({ type: 'state', state });
  }

  private emit(event: SessionEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // a listener's failure is not the session's
      }
    }
  }
}
