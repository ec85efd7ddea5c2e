import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.js';

describe('BoundedMap', () => {
  it('keeps at most max entries, dropping the oldest inserted', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('c', 3);
    expect([...m.keys()]).toEqual(['b', 'c']);
    // replacing a present key drops nothing
    m.set('b', 20);
    expect([...m.entries()]).toEqual([
      ['b', 20],
      ['c', 3],
    ]);
  });
});
