import { describe, expect, it } from 'vitest';
import { createReplayCache } from './replay.js';

describe('replay cache', () => {
  it('refuses a key seen within the window, accepts it after', () => {
    const cache = createReplayCache({ ttlMs: 1000 });
    expect(cache.checkAndAdd('a', 0)).toBe(true);
    expect(cache.checkAndAdd('a', 999)).toBe(false);
    expect(cache.checkAndAdd('a', 1000)).toBe(true);
  });

  it('is bounded', () => {
    const cache = createReplayCache({ ttlMs: 1_000_000, maxEntries: 3 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(cache.checkAndAdd(k, 0)).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(cache.checkAndAdd('e', 1)).toBe(false);
  });

  it('forgets expired entries', () => {
    const cache = createReplayCache({ ttlMs: 10 });
    cache.checkAndAdd('a', 0);
    cache.checkAndAdd('b', 5);
    cache.checkAndAdd('c', 20);
    expect(cache.size).toBe(1);
  });
});
