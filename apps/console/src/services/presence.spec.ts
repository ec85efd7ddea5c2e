import { describe, expect, it, vi } from 'vitest';
import { MemoryPresenceSource, type PresenceUpdate, RegistrarPresenceSource } from './presence.js';

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

/** A SocketLike double: the test drives open/message/close. */
class FakeSocket {
  readyState = 0;
  closed = false;
  private readonly handlers = new Map<string, ((event: Event) => void)[]>();
  send(): void {}
  close(): void {
    this.closed = true;
  }
  addEventListener(type: string, listener: (event: Event) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), listener]);
  }
  removeEventListener(): void {}
  fire(type: string, data?: unknown): void {
    for (const h of this.handlers.get(type) ?? []) h({ data } as unknown as Event);
  }
}

describe('RegistrarPresenceSource', () => {
  function setup() {
    const sockets: FakeSocket[] = [];
    const source = new RegistrarPresenceSource(
      () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      () => 42,
    );
    return { sockets, source };
  }

  it('opens one socket while anybody listens and passes on valid presence only', () => {
    const { sockets, source } = setup();
    const a = vi.fn<(u: PresenceUpdate) => void>();
    const b = vi.fn<(u: PresenceUpdate) => void>();
    const stopA = source.subscribe('o1', a);
    const stopB = source.subscribe('o1', b);
    expect(sockets).toHaveLength(1);
    const s = sockets[0] as FakeSocket;
    s.fire('open');
    s.fire(
      'message',
      JSON.stringify({ type: 'presence', deviceId: 'd1', status: 'offline', ts: 7 }),
    );
    s.fire('message', JSON.stringify({ type: 'presence', deviceId: 'd2', status: 'online' }));
    for (const junk of [
      'not json',
      JSON.stringify({ type: 'presence', deviceId: 'd3', status: 'dancing' }),
      JSON.stringify({ type: 'presence', status: 'online' }),
      JSON.stringify({ type: 'answer', sessionId: 's', sdp: 'x' }),
      JSON.stringify([1, 2]),
      42,
    ]) {
      s.fire('message', junk);
    }
    const expected = [
      { deviceId: 'd1', status: 'offline', ts: 7 },
      { deviceId: 'd2', status: 'online', ts: 42 }, // no ts from the registrar: now()
    ];
    expect(a.mock.calls.map((c) => c[0])).toEqual(expected);
    expect(b.mock.calls.map((c) => c[0])).toEqual(expected);
    stopA();
    expect(s.closed).toBe(false);
    stopB();
    expect(s.closed).toBe(true);
  });

  it('reopens a dropped socket with capped exponential backoff, not after the last listener left', () => {
    vi.useFakeTimers();
    try {
      const { sockets, source } = setup();
      const stop = source.subscribe('o1', vi.fn());
      const delays: number[] = [];
      for (let i = 0; i < 7; i++) {
        const before = sockets.length;
        (sockets.at(-1) as FakeSocket).fire('close');
        let waited = 0;
        while (sockets.length === before) {
          vi.advanceTimersByTime(500);
          waited += 500;
        }
        delays.push(waited);
      }
      expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
      // a socket that opened resets the backoff
      (sockets.at(-1) as FakeSocket).fire('open');
      (sockets.at(-1) as FakeSocket).fire('close');
      vi.advanceTimersByTime(1000);
      expect(sockets).toHaveLength(9);
      stop();
      (sockets.at(-1) as FakeSocket).fire('close');
      vi.advanceTimersByTime(60_000);
      expect(sockets).toHaveLength(9);
    } finally {
      vi.useRealTimers();
    }
  });
});
