import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { deviceTopics, parseSignalIn } from './topics.js';

const enc = (v: unknown): Uint8Array =>
  new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('signal/in validation', () => {
  it('accepts the three message types', () => {
    const offer = parseSignalIn(
      enc({
        type: 'offer',
        sessionId: 's1',
        sdp: 'v=0',
        grant: 'a.b.c',
        iceServers: [{ urls: 'stun:x' }],
      }),
    );
    expect(offer).toMatchObject({
      ok: true,
      message: { type: 'offer', iceServers: [{ urls: 'stun:x' }] },
    });
    expect(
      parseSignalIn(enc({ type: 'offer', sessionId: 's1', sdp: 'v=0', grant: 'g' })),
    ).toMatchObject({ ok: true, message: { iceServers: [] } });
    expect(
      parseSignalIn(enc({ type: 'candidate', sessionId: 's1', candidate: 'candidate:1', mid: '0' }))
        .ok,
    ).toBe(true);
    expect(parseSignalIn(enc({ type: 'hangup', sessionId: 's1' })).ok).toBe(true);
  });

  it.each([
    'not json',
    '',
    'null',
    '[]',
    { type: 'bogus', sessionId: 's' },
    { type: 'offer', sessionId: 's1', sdp: 'v=0' },
    { type: 'offer', sessionId: '', sdp: 'v=0', grant: 'g' },
    { type: 'offer', sessionId: 's', sdp: 'x'.repeat(70_000), grant: 'g' },
    { type: 'candidate', sessionId: 's1', candidate: 1, mid: '0' },
    { type: 'hangup' },
  ])('drops malformed %#', (payload) => {
    const r = parseSignalIn(enc(payload));
    expect(r.ok).toBe(false);
  });

  it('never echoes values in the reason', () => {
    const r = parseSignalIn(enc({ type: 'offer', sessionId: 's', sdp: 5, grant: 'SECRET-GRANT' }));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('SECRET');
  });

  it('builds the device topics', () => {
    expect(deviceTopics('d')).toEqual({
      status: 'pf/v1/dev/d/status',
      heartbeat: 'pf/v1/dev/d/heartbeat',
      signalIn: 'pf/v1/dev/d/signal/in',
      signalOut: 'pf/v1/dev/d/signal/out',
      audit: 'pf/v1/dev/d/audit',
    });
  });
});

describe('backoff', () => {
  it('grows exponentially, is capped, and jitters within [cap/2, cap]', () => {
    const lo = (a: number) => backoffDelay(a, { initialMs: 100, maxMs: 5000, random: () => 0 });
    const hi = (a: number) => backoffDelay(a, { initialMs: 100, maxMs: 5000, random: () => 1 });
    expect([0, 1, 2, 3].map(hi)).toEqual([100, 200, 400, 800]);
    expect([0, 1, 2, 3].map(lo)).toEqual([50, 100, 200, 400]);
    expect(hi(10)).toBe(5000);
    expect(hi(1000)).toBe(5000);
    expect(lo(1000)).toBe(2500);
  });
});
