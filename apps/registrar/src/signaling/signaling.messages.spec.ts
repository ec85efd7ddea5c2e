import { describe, expect, it } from 'vitest';
import { consoleMessageSchema, TokenBucket } from './signaling.messages.js';

const S = '11111111-1111-4111-8111-111111111111';

describe('signaling messages', () => {
  it('accepts the console messages and nothing else', () => {
    expect(
      consoleMessageSchema.safeParse({ type: 'offer', deviceId: S, grant: 'g', sdp: 'v=0' })
        .success,
    ).toBe(true);
    expect(
      consoleMessageSchema.safeParse({ type: 'candidate', sessionId: S, candidate: 'c', mid: '0' })
        .success,
    ).toBe(true);
    for (const bad of [
      { type: 'answer', sessionId: S, sdp: 'v=0' },
      { type: 'offer', deviceId: 'x', grant: 'g', sdp: 'v=0' },
      { type: 'offer', deviceId: S, grant: 'g', sdp: 'x'.repeat(40_000) },
      { type: 'connected', sessionId: S, path: 'wormhole' },
      { type: 'candidate', sessionId: S, candidate: 'c' },
      null,
      'offer',
    ]) {
      expect(consoleMessageSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('forwards a null mid as "0" (browsers may report sdpMid null)', () => {
    const m = consoleMessageSchema.parse({
      type: 'candidate',
      sessionId: S,
      candidate: 'c',
      mid: null,
    });
    expect(m).toEqual({ type: 'candidate', sessionId: S, candidate: 'c', mid: '0' });
  });

  it('token bucket allows a burst, then the refill rate', () => {
    let now = 0;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    now += 500;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
  });
});
