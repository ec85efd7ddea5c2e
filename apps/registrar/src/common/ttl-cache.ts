/**
 * A small in-process cache with a time-to-live, for authorization data read on every
 * signaling (grants, device status, org settings). Writers on this replica invalidate
 * their entries at once; other replicas see a change after at most `ttlMs`. Only positive
 * answers are cached by its users (an unknown id is always looked up again).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      // Oldest first (Map keeps insertion order): bounded memory, no scan.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
  }

  /**
   * The cached value, or the loader's (cached unless null). A write that races with a load
   * bumps the generation, and the stale result is then not cached.
   */
  async getOrLoad(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const value = await load();
    if (value !== null && generation === this.generation) this.set(key, value);
    return value;
  }

  delete(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private generation = 0;
}

/**
 * How long a replica may act on authorization data changed on another replica (grant
 * revoked, device revoked or re-tagged, org ICE servers changed). Changes made through this
 * replica take effect at once.
 */
export const AUTHZ_CACHE_TTL_MS = 2_000;
