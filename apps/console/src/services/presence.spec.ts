import { describe, expect, it, vi } from 'vitest';
import { MemoryPresenceSource } from './presence.js';

describe('MemoryPresenceSource', () => {
  it('delivers updates to subscribers of the org until they unsubscribe', () => {
    const source = new MemoryPresenceSource();
    const a = vi.fn();
    const b = vi.fn();
    const stop = source.subscribe('o1', a);
    source.subscribe('o2', b);
    const update = { deviceId: 'd', status: 'online' as const, ts: 1 };
    source.emit('o1', update);
    expect(a).toHaveBeenCalledWith(update);
    expect(b).not.toHaveBeenCalled();
    stop();
    source.emit('o1', update);
    expect(a).toHaveBeenCalledTimes(1);
    expect(source.subscriberCount('o1')).toBe(0);
  });
});
