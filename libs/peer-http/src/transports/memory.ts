/**
 * An in-memory pair of connected transports for tests and examples. It behaves like a
 * reliable, ordered DataChannel: message boundaries are kept, `send` copies the message and
 * queues it (raising `bufferedAmount`), delivery happens later in macrotasks, at most
 * `bytesPerTick` per task (or `bytesPerSecond`), `onBufferedAmountLow` fires when the queue
 * drains to the threshold, messages above `maxMessageSize` are refused, and either end can
 * close the channel (gracefully: queued messages are delivered first) or fail it.
 */
import type { Transport } from '../transport.js';

export interface MemoryTransportOptions {
  /** Largest message accepted by `send` (default 262144, like Chromium and libdatachannel). */
  maxMessageSize?: number;
  /** Bytes delivered per macrotask when no rate is set (default 1 MiB). */
  bytesPerTick?: number;
  /** Optional throughput limit in bytes per second (delivered in 10 ms slices). */
  bytesPerSecond?: number;
}

export interface MemoryTransport extends Transport {
  /** Fails the channel at once: undelivered messages are lost, both ends close with `error`. */
  destroy(error?: Error): void;
  /** Total bytes this end has sent (for tests). */
  readonly bytesSent: number;
}

type Timer = ReturnType<typeof setTimeout>;

class MemoryEnd implements MemoryTransport {
  peer!: MemoryEnd;
  readonly maxMessageSize: number;
  /** `send` keeps a copy (`slice`), like a DataChannel. */
  readonly copiesOnSend = true;
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  bytesSent = 0;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private readonly outbound: Uint8Array[] = [];
  private readonly inbox: Uint8Array[] = [];
  private messageListener: ((message: Uint8Array) => void) | undefined;
  private lowListener: (() => void) | undefined;
  private closeListener: ((error?: Error) => void) | undefined;
  private closeResult: { error?: Error } | undefined;
  private closeDelivered = false;
  private timer: Timer | undefined;
  private draining = false;

  constructor(
    private readonly options: Required<Pick<MemoryTransportOptions, 'bytesPerTick'>> &
      MemoryTransportOptions,
  ) {
    this.maxMessageSize = options.maxMessageSize ?? 262144;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  send(message: Uint8Array): void {
    if (this.state !== 'open') throw new Error('InvalidStateError: the channel is not open');
    if (message.length > this.maxMessageSize) {
      throw new TypeError(
        `message of ${message.length} bytes exceeds maxMessageSize ${this.maxMessageSize}`,
      );
    }
    this.outbound.push(message.slice());
    this.bufferedAmount += message.length;
    this.bytesSent += message.length;
    this.schedule();
  }

  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.schedule();
  }

  destroy(error: Error = new Error('memory transport destroyed')): void {
    if (this.state === 'closed') return;
    this.finish({ error });
    this.peer.finish({ error });
  }

  onMessage(listener: ((message: Uint8Array) => void) | undefined): void {
    this.messageListener = listener;
    if (listener && this.inbox.length > 0) queueMicrotask(() => this.drainInbox());
  }

  onBufferedAmountLow(listener: (() => void) | undefined): void {
    this.lowListener = listener;
  }

  onClose(listener: ((error?: Error) => void) | undefined): void {
    this.closeListener = listener;
    if (listener && this.closeResult && !this.closeDelivered)
      queueMicrotask(() => this.deliverClose());
  }

  private schedule(): void {
    if (this.timer !== undefined || this.state === 'closed') return;
    const rate = this.options.bytesPerSecond;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump(rate ? Math.max(1, Math.floor(rate / 100)) : this.options.bytesPerTick);
      },
      rate ? 10 : 0,
    );
  }

  private pump(budget: number): void {
    if (this.state === 'closed') return;
    const before = this.bufferedAmount;
    while (this.outbound.length > 0 && budget > 0) {
      const message = this.outbound.shift()!;
      this.bufferedAmount -= message.length;
      budget -= message.length;
      this.peer.receive(message);
      if ((this.state as string) === 'closed') return;
    }
    if (
      before > this.bufferedAmountLowThreshold &&
      this.bufferedAmount <= this.bufferedAmountLowThreshold
    ) {
      this.call(() => this.lowListener?.());
    }
    if (this.outbound.length > 0) this.schedule();
    else if (this.state === 'closing') {
      this.finish({});
      this.peer.finish({});
    }
  }

  private receive(message: Uint8Array): void {
    if (this.state === 'closed') return;
    this.inbox.push(message);
    this.drainInbox();
  }

  private drainInbox(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.messageListener && this.inbox.length > 0 && this.state !== 'closed') {
        const message = this.inbox.shift()!;
        const listener = this.messageListener;
        this.call(() => listener(message));
      }
    } finally {
      this.draining = false;
    }
  }

  /** A listener that throws fails the channel, as the DataChannel adapters do. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private finish(result: { error?: Error }): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.outbound.length = 0;
    this.inbox.length = 0;
    this.bufferedAmount = 0;
    this.closeResult = result;
    queueMicrotask(() => this.deliverClose());
  }

  private deliverClose(): void {
    if (this.closeDelivered || !this.closeResult || !this.closeListener) return;
    this.closeDelivered = true;
    const listener = this.closeListener;
    const { error } = this.closeResult;
    try {
      listener(error);
    } catch {
      // nothing to report to: the channel is already closed
    }
  }
}

/** Creates two connected in-memory transports. */
export function createMemoryTransportPair(
  options: MemoryTransportOptions = {},
): [MemoryTransport, MemoryTransport] {
  const resolved = { bytesPerTick: 1024 * 1024, ...options };
  const a = new MemoryEnd(resolved);
  const b = new MemoryEnd(resolved);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
