import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('serves a value until it expires, then loads again', async () => {
    let now = 1_000;
    const cache = new TtlCache<string>(100, 10, () => now);
    let loads = 0;
    const load = () => Promise.resolve(`v${++loads}`);
    expect(await cache.getOrLoad('k', load)).toBe('v1');
    expect(await cache.getOrLoad('k', load)).toBe('v1');
    now += 100;
    expect(await cache.getOrLoad('k', load)).toBe('v2');
  });

  it('never caches a missing value, and forgets on delete and clear', async () => {
    const cache = new TtlCache<string>(60_000);
    let value: string | null = null;
    const load = () => Promise.resolve(value);
    expect(await cache.getOrLoad('k', load)).toBeNull();
    value = 'a';
    expect(await cache.getOrLoad('k', load)).toBe('a');
    value = 'b';
    cache.delete('k');
    expect(await cache.getOrLoad('k', load)).toBe('b');
    value = 'c';
    cache.clear();
    expect(await cache.getOrLoad('k', load)).toBe('c');
  });

  it('does not cache a load that raced with an invalidation', async () => {
    const cache = new TtlCache<string>(60_000);
    let release!: () => void;
    const slow = cache.getOrLoad(
      'k',
      () => new Promise<string>((resolve) => (release = () => resolve('stale'))),
    );
    cache.delete('k');
    release();
    expect(await slow).toBe('stale');
    expect(await cache.getOrLoad('k', () => Promise.resolve('fresh'))).toBe('fresh');
  });

  it('is bounded', () => {
    const cache = new TtlCache<number>(60_000, 3);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect(cache.get('k9')).toBe(9);
    expect(cache.get('k0')).toBeUndefined();
  });
});
