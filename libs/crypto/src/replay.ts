// A bounded replay cache: remembers keys (console nonces) for a time window.

export interface ReplayCache {
  /** Records `key`; returns false if it was already recorded and has not expired. */
  checkAndAdd(key: string, now?: number): boolean;
  readonly size: number;
}

export interface ReplayCacheOptions {
  /** How long an entry is remembered, ms. Default 16 minutes (max grant lifetime + skew). */
  ttlMs?: number;
  /** At most this many entries; the oldest are forgotten first. Default 10 000. */
  maxEntries?: number;
}

export function createReplayCache(options: ReplayCacheOptions = {}): ReplayCache {
  const ttl = options.ttlMs ?? 16 * 60_000;
  const max = options.maxEntries ?? 10_000;
  const seen = new Map<string, number>(); // key → expiry; insertion order = age
  return {
    get size() {
      return seen.size;
    },
    checkAndAdd(key, now = Date.now()) {
      for (const [k, expiry] of seen) {
        if (expiry > now && seen.size < max) break;
        seen.delete(k);
      }
      const expiry = seen.get(key);
      if (expiry !== undefined && expiry > now) return false;
      seen.set(key, now + ttl);
      return true;
    },
  };
}
