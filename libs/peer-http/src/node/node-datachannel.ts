import type { DataChannel } from 'node-datachannel';
import type { Transport } from '../transport.js';

/** Used when the channel cannot report its own limit (already closed). */
const FALLBACK_MAX_MESSAGE_SIZE = 262144;

/**
 * Wraps a node-datachannel `DataChannel` (reliable, ordered, normally already open) as a
 * {@link Transport}.
 *
 * node-datachannel aborts the whole process (SIGABRT) when a JavaScript callback throws, so
 * every callback registered here catches: a throwing listener fails the transport (the
 * channel is closed and `onClose` receives the error) instead of taking the process down.
 * Incoming `Buffer`s are handed on as `Uint8Array` views of the same memory (each message
 * is a fresh buffer owned by nobody else); text messages are UTF-8 encoded.
 */
export function nodeDataChannelTransport(channel: DataChannel): Transport {
  const queue: Uint8Array[] = [];
  let messageListener: ((message: Uint8Array) => void) | undefined;
  let lowListener: (() => void) | undefined;
  let closeListener: ((error?: Error) => void) | undefined;
  let closed = !safe(() => channel.isOpen(), false);
  let discardMessages = closed;
  let closeError: Error | undefined;
  let closeDelivered = false;
  let lowThreshold = 0;
  const maxMessageSize = safe(() => channel.maxMessageSize(), 0) || FALLBACK_MAX_MESSAGE_SIZE;

  const deliverClose = (): void => {
    if (closeDelivered || !closed || closeListener === undefined) return;
    closeDelivered = true;
    const listener = closeListener;
    const error = closeError;
    // Asynchronous: never re-enter a caller of close(), never run inside a native callback.
    queueMicrotask(() => {
      try {
        listener(error);
      } catch {
        // The transport is closed and this was its last event: nothing left to fail.
      }
    });
  };

  const finish = (error: Error | undefined, discard: boolean): void => {
    if (closed) return;
    closed = true;
    closeError = error;
    if (discard) {
      discardMessages = true;
      queue.length = 0;
    }
    try {
      channel.close();
    } catch {
      // Already closed underneath us: that is what we are recording.
    }
    deliverClose();
  };

  const guard = (fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      try {
        finish(asError(error, 'transport listener threw'), true);
      } catch {
        // Last line of defence: nothing may escape into node-datachannel.
      }
    }
  };

  const drain = (): void => {
    while (!discardMessages && messageListener !== undefined && queue.length > 0) {
      const message = queue.shift() as Uint8Array;
      const listener = messageListener;
      guard(() => listener(message));
    }
  };

  channel.onMessage((data) => {
    guard(() => {
      if (discardMessages) return;
      const message = toBytes(data);
      if (messageListener === undefined || queue.length > 0) {
        queue.push(message);
        drain();
        return;
      }
      messageListener(message);
    });
  });
  channel.onBufferedAmountLow(() => {
    guard(() => {
      if (!closed) lowListener?.();
    });
  });
  channel.onError((reason) => {
    guard(() => finish(new Error(`DataChannel error: ${String(reason)}`), false));
  });
  channel.onClosed(() => {
    guard(() => finish(undefined, false));
  });

  return {
    maxMessageSize,
    get bufferedAmount() {
      return closed ? 0 : safe(() => channel.bufferedAmount(), 0);
    },
    get bufferedAmountLowThreshold() {
      return lowThreshold;
    },
    set bufferedAmountLowThreshold(value: number) {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(`invalid bufferedAmountLowThreshold ${value}`);
      }
      lowThreshold = Math.floor(value);
      if (!closed) channel.setBufferedAmountLowThreshold(lowThreshold);
    },
    get isOpen() {
      return !closed && safe(() => channel.isOpen(), false);
    },
    send(message: Uint8Array) {
      if (closed) throw new Error('DataChannel is not open');
      if (message.byteLength > maxMessageSize) {
        throw new RangeError(
          `message of ${message.byteLength} bytes exceeds maxMessageSize ${maxMessageSize}`,
        );
      }
      // Copies into libdatachannel's queue; `false` only means "queued, not yet sent".
      channel.sendMessageBinary(message);
    },
    close() {
      finish(undefined, true);
    },
    onMessage(listener) {
      messageListener = listener;
      drain();
    },
    onBufferedAmountLow(listener) {
      lowListener = listener;
    },
    onClose(listener) {
      closeListener = listener;
      deliverClose();
    },
  };
}

/** node-datachannel hands over a Node `Buffer` (a Uint8Array), an ArrayBuffer or a string. */
function toBytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function asError(value: unknown, fallback: string): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string' || typeof value === 'number')
    return new Error(`${fallback}: ${value}`);
  return new Error(fallback);
}
