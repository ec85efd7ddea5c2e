// Live device presence. The fleet store listens to a PresenceSource; the registrar's
// WebSocket will feed one (its protocol is not specified yet: docs/signaling.md), tests
// and the demo use the in-memory source.
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
