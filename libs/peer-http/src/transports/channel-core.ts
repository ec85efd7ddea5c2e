import type { Transport } from '../transport.js';

/**
 * What a DataChannel adapter supplies to {@link createChannelTransport}: the operations of
 * the underlying channel. Both adapters (browser `RTCDataChannel`, node-datachannel) share
 * the Transport contract machinery below and differ only in these.
 */
export interface ChannelIo {
  readonly maxMessageSize: number;
  bufferedAmount(): number;
  setBufferedAmountLowThreshold(bytes: number): void;
  isOpen(): boolean;
  /** Sends one message; called only while the transport is not closed. May throw. */
  send(message: Uint8Array): void;
  /** `send` copies the message before it returns ({@link Transport.copiesOnSend}). */
  readonly copiesOnSend?: boolean;
  /** Closes the underlying channel. May throw (already closed). */
  close(): void;
}

/** The adapter's side of the core: feed it the underlying channel's events. */
export interface ChannelCore {
  readonly transport: Transport;
  /** A message arrived on the channel. */
  message(message: Uint8Array): void;
  /** The channel's buffered amount fell to the low-water mark. */
  bufferedAmountLow(): void;
  /** The channel closed or failed underneath us; queued messages stay deliverable. */
  channelClosed(error?: Error): void;
  /** Fails the transport: closes the channel, drops undelivered messages, reports `error`. */
  fail(error: Error): void;
}

/**
 * Implements the {@link Transport} contract over a message channel: messages are queued
 * until a listener is set, `onClose` fires exactly once (asynchronously, with the error if
 * the channel failed), and a throwing listener fails the transport instead of escaping
 * into the channel's event loop (for node-datachannel that would abort the process).
 */
export function createChannelTransport(io: ChannelIo, initiallyClosed: boolean): ChannelCore {
  const queue: Uint8Array[] = [];
  let messageListener: ((message: Uint8Array) => void) | undefined;
  let lowListener: (() => void) | undefined;
  let closeListener: ((error?: Error) => void) | undefined;
  let closed = initiallyClosed;
  /** After a local close() or a failure, late and queued messages are dropped. */
  let discardMessages = initiallyClosed;
  let closeError: Error | undefined;
  let closeDelivered = false;
  let lowThreshold = 0;

  const deliverClose = (): void => {
    if (closeDelivered || !closed || closeListener === undefined) return;
    closeDelivered = true;
    const listener = closeListener;
    const error = closeError;
    // Asynchronous: never re-enter a caller of close(), never run inside a channel callback.
    queueMicrotask(() => {
      try {
        listener(error);
      } catch {
        // The transport is closed and this was its last event: nothing left to fail.
      }
    });
  };

  const end = (error: Error | undefined, discard: boolean, closeChannel: boolean): void => {
    if (closed) return;
    closed = true;
    closeError = error;
    if (discard) {
      discardMessages = true;
      queue.length = 0;
    }
    if (closeChannel) {
      try {
        io.close();
      } catch {
        // Already closed underneath us: that is what we are recording.
      }
    }
    deliverClose();
  };

  const fail = (error: Error): void => end(error, true, true);

  const guard = (fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      try {
        fail(asError(error, 'transport listener threw'));
      } catch {
        // Last line of defence: nothing may escape into the channel's callbacks.
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

  const transport: Transport = {
    maxMessageSize: io.maxMessageSize,
    copiesOnSend: io.copiesOnSend === true,
    get bufferedAmount() {
      return closed ? 0 : io.bufferedAmount();
    },
    get bufferedAmountLowThreshold() {
      return lowThreshold;
    },
    set bufferedAmountLowThreshold(value: number) {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(`invalid bufferedAmountLowThreshold ${value}`);
      }
      lowThreshold = Math.floor(value);
      if (!closed) io.setBufferedAmountLowThreshold(lowThreshold);
    },
    get isOpen() {
      return !closed && io.isOpen();
    },
    send(message: Uint8Array) {
      if (closed) throw new Error('DataChannel is not open');
      if (message.byteLength > io.maxMessageSize) {
        throw new RangeError(
          `message of ${message.byteLength} bytes exceeds maxMessageSize ${io.maxMessageSize}`,
        );
      }
      io.send(message);
    },
    close() {
      end(undefined, true, true);
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

  return {
    transport,
    message(message) {
      guard(() => {
        if (discardMessages) return;
        if (messageListener === undefined || queue.length > 0) {
          queue.push(message);
          drain();
          return;
        }
        messageListener(message);
      });
    },
    bufferedAmountLow() {
      if (closed) return;
      const listener = lowListener;
      if (listener !== undefined) guard(listener);
    },
    channelClosed(error) {
      // Closing an already-closed channel is a no-op; an errored one must be let go of.
      end(error, false, true);
    },
    fail,
  };
}

export function asError(value: unknown, fallback: string): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string' || typeof value === 'number')
    return new Error(`${fallback}: ${value}`);
  return new Error(fallback);
}
