import type { DataChannel } from 'node-datachannel';
import { describe, expect, it, vi } from 'vitest';
import { nodeDataChannelTransport } from './node-datachannel.js';

/** A stand-in for node-datachannel's DataChannel that records calls and lets a test fire callbacks. */
class FakeChannel {
  open = true;
  buffered = 0;
  threshold = -1;
  sent: Uint8Array[] = [];
  closeCalls = 0;
  cb: {
    message?: (m: string | Buffer | ArrayBuffer) => void;
    low?: () => void;
    error?: (e: string) => void;
    closed?: () => void;
  } = {};
  isOpen = () => this.open;
  maxMessageSize = () => 1000;
  bufferedAmount = () => this.buffered;
  setBufferedAmountLowThreshold = (n: number) => {
    this.threshold = n;
  };
  sendMessageBinary = (m: Uint8Array) => {
    this.sent.push(m.slice());
    return true;
  };
  close = () => {
    this.closeCalls += 1;
    this.open = false;
  };
  onMessage = (cb: (m: string | Buffer | ArrayBuffer) => void) => {
    this.cb.message = cb;
  };
  onBufferedAmountLow = (cb: () => void) => {
    this.cb.low = cb;
  };
  onError = (cb: (e: string) => void) => {
    this.cb.error = cb;
  };
  onClosed = (cb: () => void) => {
    this.cb.closed = cb;
  };
  asDataChannel(): DataChannel {
    return this as unknown as DataChannel;
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('nodeDataChannelTransport', () => {
  it('queues messages until a listener is set, then delivers them in order without copying', () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    const first = Buffer.from([1, 2, 3]);
    fake.cb.message?.(first);
    fake.cb.message?.('hé');
    fake.cb.message?.(new Uint8Array([9]).buffer);
    const got: Uint8Array[] = [];
    t.onMessage((m) => got.push(m));
    expect(got.map((m) => [...m])).toEqual([[1, 2, 3], [0x68, 0xc3, 0xa9], [9]]);
    expect(got[0]).toBeInstanceOf(Uint8Array);
    expect(got[0]?.buffer).toBe(first.buffer);
    fake.cb.message?.(Buffer.from([4]));
    expect(got.length).toBe(4);
  });

  it('replaces the listener and queues again when it is removed', () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    const a: number[] = [];
    const b: number[] = [];
    t.onMessage((m) => a.push(m[0] ?? -1));
    fake.cb.message?.(Buffer.from([1]));
    t.onMessage(undefined);
    fake.cb.message?.(Buffer.from([2]));
    t.onMessage((m) => b.push(m[0] ?? -1));
    expect(a).toEqual([1]);
    expect(b).toEqual([2]);
  });

  it('reports maxMessageSize, bufferedAmount and forwards the low-water threshold and event', () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    expect(t.maxMessageSize).toBe(1000);
    fake.buffered = 777;
    expect(t.bufferedAmount).toBe(777);
    t.bufferedAmountLowThreshold = 4096;
    expect(fake.threshold).toBe(4096);
    expect(t.bufferedAmountLowThreshold).toBe(4096);
    expect(() => (t.bufferedAmountLowThreshold = -1)).toThrow(RangeError);
    const low = vi.fn();
    t.onBufferedAmountLow(low);
    fake.cb.low?.();
    expect(low).toHaveBeenCalledTimes(1);
  });

  it('sends whole messages and refuses oversize ones and sends after close', () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    t.send(new Uint8Array(1000).fill(7));
    expect(fake.sent[0]?.byteLength).toBe(1000);
    expect(() => t.send(new Uint8Array(1001))).toThrow(RangeError);
    t.close();
    expect(t.isOpen).toBe(false);
    expect(() => t.send(new Uint8Array(1))).toThrow(/not open/);
  });

  it('fires onClose exactly once for a local close, asynchronously, and drops late messages', async () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    const onClose = vi.fn();
    const onMessage = vi.fn();
    t.onClose(onClose);
    t.onMessage(onMessage);
    t.close();
    t.close();
    expect(onClose).not.toHaveBeenCalled();
    fake.cb.message?.(Buffer.from([1]));
    fake.cb.closed?.();
    await tick();
    expect(fake.closeCalls).toBe(1);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledWith(undefined);
    expect(onMessage).not.toHaveBeenCalled();
  });

  it('reports an error then close from the channel as one onClose(error)', async () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    const onClose = vi.fn();
    t.onClose(onClose);
    fake.cb.error?.('SCTP association lost');
    fake.cb.closed?.();
    await tick();
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(String(onClose.mock.calls[0]?.[0])).toMatch(/SCTP association lost/);
    expect(t.isOpen).toBe(false);
  });

  it('delivers a close that happened before the listener was set, and keeps queued messages', async () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    fake.cb.message?.(Buffer.from([5]));
    fake.open = false;
    fake.cb.closed?.();
    const got: number[] = [];
    t.onMessage((m) => got.push(m[0] ?? -1));
    const onClose = vi.fn();
    t.onClose(onClose);
    await tick();
    expect(got).toEqual([5]);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('never lets a listener throw into node-datachannel: the transport fails instead', async () => {
    const fake = new FakeChannel();
    const t = nodeDataChannelTransport(fake.asDataChannel());
    const onClose = vi.fn((_error?: Error) => {
      throw new Error('close listener bug');
    });
    t.onClose(onClose);
    t.onMessage(() => {
      throw new Error('listener bug');
    });
    t.onBufferedAmountLow(() => {
      throw new Error('low listener bug');
    });
    expect(() => fake.cb.message?.(Buffer.from([1]))).not.toThrow();
    expect(() => fake.cb.low?.()).not.toThrow();
    expect(() => fake.cb.closed?.()).not.toThrow();
    await tick();
    expect(fake.closeCalls).toBe(1);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(String(onClose.mock.calls[0]?.[0] as unknown)).toMatch(/listener bug/);
  });

  it('treats a channel that is not open as closed', async () => {
    const fake = new FakeChannel();
    fake.open = false;
    const t = nodeDataChannelTransport(fake.asDataChannel());
    const onClose = vi.fn();
    t.onClose(onClose);
    await tick();
    expect(t.isOpen).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
