// Signaling for one device session: the console's offer, the device's answer and ICE
// candidates both ways, relayed by the registrar (docs/signaling.md). DeviceSession only
// knows this interface; `RegistrarSignaling` implements it over the registrar's WebSocket
// `/api/signal`, tests substitute an in-memory one.
import type { SocketLike } from '../../platform/index.js';

export interface OfferMessage {
  /** The session the channel carries from this offer on (the grant's `sid`). */
  sessionId: string;
  deviceId: string;
  /** The grant from `POST /api/sessions` (its `sid` is the session id). */
  grant: string;
  sdp: string;
}

export interface IceCandidateMessage {
  candidate: string;
  mid: string | null;
}

export type PathType = 'host' | 'srflx' | 'prflx' | 'relay' | 'unknown';

export interface SignalingChannel {
  sendOffer(offer: OfferMessage): void;
  sendCandidate(candidate: IceCandidateMessage): void;
  /** The selected ICE path, for the registrar's audit log (optional). */
  sendConnected?(path: PathType): void;
  onAnswer(listener: (sdp: string) => void): void;
  onCandidate(listener: (candidate: IceCandidateMessage) => void): void;
  /** The device or the registrar ended or refused the session; `reason` is a code. */
  onHangup(listener: (reason: string) => void): void;
  /** Sends a hangup (when a session was started) and releases the channel. Idempotent. */
  close(reason?: string): void;
}

/**
 * Opens a signaling channel. It needs no session yet (the offer names it), so a session
 * opens it while its grant is being requested.
 */
export type SignalingFactory = () => Promise<SignalingChannel>;

const OPEN = 1;
const MAX_MESSAGE = 64 * 1024;

/** A registrar message (a JSON object of at most 64 KiB), or null. */
export function parseRegistrarMessage(data: unknown): Record<string, unknown> | null {
  if (typeof data !== 'string' || data.length > MAX_MESSAGE) return null;
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const str = (o: Record<string, unknown>, key: string): string | undefined =>
  typeof o[key] === 'string' ? o[key] : undefined;

/**
 * One WebSocket to the registrar per session, opened before the session is known; the
 * offer binds it to its session. Messages for other sessions (and presence) are ignored;
 * a registrar `error` before or for this session ends it (`onHangup` with the error code).
 */
export class RegistrarSignaling implements SignalingChannel {
  private answer?: (sdp: string) => void;
  private candidate?: (c: IceCandidateMessage) => void;
  private hangup?: (reason: string) => void;
  private closed = false;
  private sessionId: string | undefined;
  private readonly onMessage = (event: Event): void => this.receive(event);
  private readonly onClose = (): void => this.end('SIGNALING_CLOSED');

  private constructor(private readonly socket: SocketLike) {
    socket.addEventListener('message', this.onMessage);
    socket.addEventListener('close', this.onClose);
  }

  /** Resolves once the socket is open (rejects if it closes or errors first). */
  static open(socket: SocketLike, timeoutMs = 10_000): Promise<RegistrarSignaling> {
    return new Promise((resolve, reject) => {
      if (socket.readyState === OPEN) {
        resolve(new RegistrarSignaling(socket));
        return;
      }
      const done = (error?: Error): void => {
        clearTimeout(timer);
        socket.removeEventListener('open', onOpen);
        socket.removeEventListener('error', onFail);
        socket.removeEventListener('close', onFail);
        if (error) {
          socket.close();
          reject(error);
        } else resolve(new RegistrarSignaling(socket));
      };
      const onOpen = (): void => done();
      const onFail = (): void =>
        done(new Error('the signaling connection to the registrar failed'));
      const timer = setTimeout(
        () => done(new Error('the registrar did not answer in time')),
        timeoutMs,
      );
      socket.addEventListener('open', onOpen);
      socket.addEventListener('error', onFail);
      socket.addEventListener('close', onFail);
    });
  }

  sendOffer(offer: OfferMessage): void {
    this.sessionId = offer.sessionId;
    this.send({ type: 'offer', deviceId: offer.deviceId, grant: offer.grant, sdp: offer.sdp });
  }
  sendCandidate(c: IceCandidateMessage): void {
    if (this.sessionId === undefined) return; // nothing to send before the offer
    this.send({ type: 'candidate', sessionId: this.sessionId, candidate: c.candidate, mid: c.mid });
  }
  sendConnected(path: PathType): void {
    if (this.sessionId === undefined) return;
    this.send({ type: 'connected', sessionId: this.sessionId, path });
  }
  onAnswer(listener: (sdp: string) => void): void {
    this.answer = listener;
  }
  onCandidate(listener: (c: IceCandidateMessage) => void): void {
    this.candidate = listener;
  }
  onHangup(listener: (reason: string) => void): void {
    this.hangup = listener;
  }

  close(reason = 'closed by the user'): void {
    if (this.closed) return;
    if (this.sessionId !== undefined) {
      this.send({ type: 'hangup', sessionId: this.sessionId, reason });
    }
    this.closed = true;
    this.detach();
    this.socket.close(1000, 'session ended');
  }

  private send(message: Record<string, unknown>): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  private detach(): void {
    this.socket.removeEventListener('message', this.onMessage);
    this.socket.removeEventListener('close', this.onClose);
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.socket.close();
    this.hangup?.(reason);
  }

  private receive(event: Event): void {
    const m = parseRegistrarMessage((event as MessageEvent).data);
    if (!m) return;
    const type = str(m, 'type');
    const sid = str(m, 'sessionId');
    if (type === 'error') {
      // refusals of our offer may come before the registrar knows the session
      if (sid === undefined || sid === this.sessionId)
        this.end(str(m, 'code') ?? str(m, 'reason') ?? 'ERROR');
      return;
    }
    if (this.sessionId === undefined || sid !== this.sessionId) return;
    if (type === 'answer') {
      const sdp = str(m, 'sdp');
      if (sdp) this.answer?.(sdp);
    } else if (type === 'candidate') {
      const candidate = str(m, 'candidate');
      const mid = m['mid'];
      if (candidate !== undefined) {
        this.candidate?.({ candidate, mid: typeof mid === 'string' ? mid : null });
      }
    } else if (type === 'hangup') {
      this.end(str(m, 'reason') ?? 'HANGUP');
    }
  }
}
