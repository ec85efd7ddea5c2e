import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_MESSAGE_SIZE, rtcDataChannelTransport } from './rtc-data-channel.js';

/** A stand-in for the browser's RTCDataChannel: an EventTarget with the fields the adapter uses. */
class FakeRtcChannel extends EventTarget {
  binaryType = 'blob';
  readyState: RTCDataChannelState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  sent: Uint8Array[] = [];
  closeCalls = 0;
  send(data: Uint8Array) {
    this.sent.push(data.slice());
  }
  close() {
    this.closeCalls += 1;
    this.readyState = 'closing';
  }
  receive(data: unknown) {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
  remoteClose(error?: Error) {
    if (error) this.dispatchEvent(Object.assign(new Event('error'), { error }));
    this.readyState = 'closed';
    this.dispatchEvent(new Event('close'));
  }
  asChannel(): RTCDataChannel {
    return this as unknown as RTCDataChannel;
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('rtcDataChannelTransport', () => {
  it('sets binaryType to arraybuffer and takes maxMessageSize from the option or the default', () => {
    const fake = new FakeRtcChannel();
    expect(rtcDataChannelTransport(fake.asChannel()).maxMessageSize).toBe(DEFAULT_MAX_MESSAGE_SIZE);
    expect(fake.binaryType).toBe('arraybuffer');
    expect(
      rtcDataChannelTransport(fake.asChannel(), { maxMessageSize: 65536 }).maxMessageSize,
    ).toBe(65536);
    expect(
      rtcDataChannelTransport(fake.asChannel(), { maxMessageSize: Infinity }).maxMessageSize,
    ).toBe(DEFAULT_MAX_MESSAGE_SIZE);
  });

  it('queues messages until a listener is set and delivers them in order', () => {
    const fake = new FakeRtcChannel();
    const t = rtcDataChannelTransport(fake.asChannel());
    fake.receive(new Uint8Array([1, 2]).buffer);
    fake.receive('hi');
    const got: number[][] = [];
    t.onMessage((m) => got.push([...m]));
    fake.receive(new Uint8Array([3]).buffer);
    expect(got).toEqual([[1, 2], [0x68, 0x69], [3]]);
  });

  it('mirrors bufferedAmount and the threshold, forwards bufferedamountlow', () => {
    const fake = new FakeRtcChannel();
    const t = rtcDataChannelTransport(fake.asChannel());
    fake.bufferedAmount = 12345;
    expect(t.bufferedAmount).toBe(12345);
    t.bufferedAmountLowThreshold = 1 << 20;
    expect(fake.bufferedAmountLowThreshold).toBe(1 << 20);
    const low = vi.fn();
    t.onBufferedAmountLow(low);
    fake.dispatchEvent(new Event('bufferedamountlow'));
    expect(low).toHaveBeenCalledTimes(1);
  });

  it('sends whole messages, refusing oversize ones and sends when not open', () => {
    const fake = new FakeRtcChannel();
    const t = rtcDataChannelTransport(fake.asChannel(), { maxMessageSize: 10 });
    t.send(new Uint8Array([1, 2, 3]));
    expect(fake.sent.map((m) => [...m])).toEqual([[1, 2, 3]]);
    expect(() => t.send(new Uint8Array(11))).toThrow(RangeError);
    t.close();
    expect(() => t.send(new Uint8Array(1))).toThrow(/not open/);
  });

  it('fires onClose once for a local close and drops later messages', async () => {
    const fake = new FakeRtcChannel();
    const t = rtcDataChannelTransport(fake.asChannel());
    const onClose = vi.fn();
    const onMessage = vi.fn();
    t.onClose(onClose);
    t.onMessage(onMessage);
    t.close();
    t.close();
    fake.receive(new Uint8Array([1]).buffer);
    fake.remoteClose();
    await tick();
    expect(fake.closeCalls).toBe(1);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledWith(undefined);
    expect(onMessage).not.toHaveBeenCalled();
  });

  it('reports a channel error followed by close as one onClose(error)', async () => {
    const fake = new FakeRtcChannel();
    const t = rtcDataChannelTransport(fake.asChannel());
    const onClose = vi.fn();
    t.onClose(onClose);
    fake.remoteClose(new Error('User-Initiated Abort'));
    fake.remoteClose();
    await tick();
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(String(onClose.mock.calls[0]?.[0])).toMatch(/User-Initiated Abort/);
    expect(t.isOpen).toBe(false);
  });

  it('keeps messages queued before a remote close and delivers the close to a late listener', async () => {
    const fake = new FakeRtcChannel();
    const t = rtcDataChannelTransport(fake.asChannel());
    fake.receive(new Uint8Array([7]).buffer);
    fake.remoteClose();
    const got: number[] = [];
    t.onMessage((m) => got.push(m[0] ?? -1));
    const onClose = vi.fn();
    t.onClose(onClose);
    await tick();
    expect(got).toEqual([7]);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('turns a throwing listener into a failed transport', async () => {
    const fake = new FakeRtcChannel();
    const t = rtcDataChannelTransport(fake.asChannel());
    const onClose = vi.fn();
    t.onClose(onClose);
    t.onMessage(() => {
      throw new Error('listener bug');
    });
    expect(() => fake.receive(new Uint8Array([1]).buffer)).not.toThrow();
    await tick();
    expect(fake.closeCalls).toBe(1);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(String(onClose.mock.calls[0]?.[0])).toMatch(/listener bug/);
  });
});
