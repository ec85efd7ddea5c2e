// Live device presence. The fleet store listens to a PresenceSource: in the app, the
// registrar pushes `{type:"presence", deviceId, status, ts}` on its signaling WebSocket
// (docs/signaling.md) to every socket of a user who may see the device; tests use the
// in-memory source.
import type { SocketLike } from '../platform/index.js';
import { parseRegistrarMessage } from './session/signaling.js';

export interface PresenceUpdate {
  deviceId: string;
  status: 'online' | 'offline';
  /** When the registrar observed the change (ms since the epoch). */
  ts: number;
}

export interface PresenceSource {
  /** Starts delivering updates for `orgId`; returns a function that stops them. */
  subscribe(orgId: string, listener: (update: PresenceUpdate) => void): () => void;
}

/** In-memory source: `emit()` delivers to the current subscribers of that org. */
export class MemoryPresenceSource implements PresenceSource {
  private readonly listeners = new Map<string, Set<(update: PresenceUpdate) => void>>();

  subscribe(orgId: string, listener: (update: PresenceUpdate) => void): () => void {
    let set = this.listeners.get(orgId);
    if (!set) {
      set = new Set();
      this.listeners.set(orgId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit(orgId: string, update: PresenceUpdate): void {
    for (const listener of [...(this.listeners.get(orgId) ?? [])]) listener(update);
  }

  subscriberCount(orgId: string): number {
    return this.listeners.get(orgId)?.size ?? 0;
  }
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Presence pushed by the registrar over one signaling WebSocket, opened while anybody
 * listens and closed when the last listener leaves. A dropped socket is reopened with
 * capped exponential backoff (1 s … 30 s); changes while it was down are not replayed (the
 * fleet shows them on its next load).
 */
export class RegistrarPresenceSource implements PresenceSource {
  private readonly listeners = new Set<(update: PresenceUpdate) => void>();
  private socket: SocketLike | null = null;
  private retryMs = RETRY_MIN_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly open: () => SocketLike,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The socket is the user's: the registrar pushes only the devices this user may see. */
  subscribe(_orgId: string, listener: (update: PresenceUpdate) => void): () => void {
    this.listeners.add(listener);
    if (!this.socket && !this.timer) this.connect();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private connect(): void {
    this.timer = null;
    let socket: SocketLike;
    try {
      socket = this.open();
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = RETRY_MIN_MS;
    });
    socket.addEventListener('message', (event) => {
      const m = parseRegistrarMessage((event as MessageEvent).data);
      if (m?.['type'] !== 'presence' || typeof m['deviceId'] !== 'string') return;
      const status = m['status'];
      if (status !== 'online' && status !== 'offline') return;
      const ts = typeof m['ts'] === 'number' ? m['ts'] : this.now();
      const update: PresenceUpdate = { deviceId: m['deviceId'], status, ts };
      for (const listener of [...this.listeners]) listener(update);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.listeners.size > 0) this.retry();
    });
  }

  private retry(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }
}
