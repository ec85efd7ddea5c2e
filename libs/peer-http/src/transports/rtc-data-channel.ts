import type { Transport } from '../transport.js';

/** SCTP max-message-size both Chromium and libdatachannel advertise by default. */
export const DEFAULT_MAX_MESSAGE_SIZE = 262144;

export interface RtcDataChannelTransportOptions {
  /**
   * Largest message the peer accepts. Pass `pc.sctp?.maxMessageSize` once the connection
   * is up; when absent or not a positive finite number, {@link DEFAULT_MAX_MESSAGE_SIZE}.
   */
  maxMessageSize?: number | undefined;
}

/**
 * Wraps a browser `RTCDataChannel` (reliable, ordered, normally already open) as a
 * {@link Transport}. Sets `binaryType = 'arraybuffer'`. Messages that arrive while no
 * listener is set are queued; `onClose` fires exactly once (with an Error if the channel
 * failed); a throwing listener never escapes into the browser's event loop: it fails the
 * transport instead, so the error is seen by whoever listens for the close.
 */
export function rtcDataChannelTransport(
  channel: RTCDataChannel,
  options: RtcDataChannelTransportOptions = {},
): Transport {
  channel.binaryType = 'arraybuffer';
  const maxMessageSize = validSize(options.maxMessageSize) ?? DEFAULT_MAX_MESSAGE_SIZE;
  const queue: Uint8Array[] = [];
  let messageListener: ((message: Uint8Array) => void) | undefined;
  let lowListener: (() => void) | undefined;
  let closeListener: ((error?: Error) => void) | undefined;
  let closed = channel.readyState === 'closed' || channel.readyState === 'closing';
  let closeError: Error | undefined;
  let closeDelivered = false;
  let pendingError: Error | undefined;
  /** After a local close() or a failure, late messages are dropped. */
  let discardMessages = closed;

  const fail = (error: Error): void => {
    if (closed) return;
    closed = true;
    discardMessages = true;
    closeError = error;
    try {
      channel.close();
    } catch {
      // Already closing: the close event is what we were waiting for anyway.
    }
    deliverClose();
  };

  const guard = (fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      fail(asError(error, 'transport listener threw'));
    }
  };

  const deliverClose = (): void => {
    if (closeDelivered || !closed || closeListener === undefined) return;
    closeDelivered = true;
    const listener = closeListener;
    const error = closeError;
    // Asynchronous so a `close()` call never re-enters its caller through the listener.
    queueMicrotask(() => {
      try {
        listener(error);
      } catch {
        // Nothing left to fail: the transport is closed and this was its last event.
      }
    });
  };

  const drain = (): void => {
    while (!discardMessages && messageListener !== undefined && queue.length > 0) {
      const message = queue.shift() as Uint8Array;
      const listener = messageListener;
      guard(() => listener(message));
    }
  };

  const onMessageEvent = (event: MessageEvent<unknown>): void => {
    if (discardMessages) return;
    const message = toBytes(event.data);
    if (message === undefined) {
      fail(new Error('DataChannel delivered a message that is neither binary nor text'));
      return;
    }
    if (messageListener === undefined || queue.length > 0) {
      queue.push(message);
      drain();
      return;
    }
    const listener = messageListener;
    guard(() => listener(message));
  };

  const onLowEvent = (): void => {
    if (closed) return;
    const listener = lowListener;
    if (listener !== undefined) guard(listener);
  };

  const onErrorEvent = (event: Event): void => {
    const detail = (event as Partial<RTCErrorEvent>).error;
    pendingError = asError(detail, 'DataChannel error');
  };

  const onCloseEvent = (): void => {
    channel.removeEventListener('message', onMessageEvent);
    channel.removeEventListener('bufferedamountlow', onLowEvent);
    channel.removeEventListener('error', onErrorEvent);
    channel.removeEventListener('close', onCloseEvent);
    if (closed) return;
    closed = true;
    closeError = pendingError;
    deliverClose();
  };

  channel.addEventListener('message', onMessageEvent);
  channel.addEventListener('bufferedamountlow', onLowEvent);
  channel.addEventListener('error', onErrorEvent);
  channel.addEventListener('close', onCloseEvent);

  return {
    maxMessageSize,
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    get bufferedAmountLowThreshold() {
      return channel.bufferedAmountLowThreshold;
    },
    set bufferedAmountLowThreshold(value: number) {
      channel.bufferedAmountLowThreshold = value;
    },
    get isOpen() {
      return !closed && channel.readyState === 'open';
    },
    send(message: Uint8Array) {
      if (closed || channel.readyState !== 'open') {
        throw new Error('DataChannel is not open');
      }
      if (message.byteLength > maxMessageSize) {
        throw new RangeError(
          `message of ${message.byteLength} bytes exceeds maxMessageSize ${maxMessageSize}`,
        );
      }
      channel.send(message as Uint8Array<ArrayBuffer>);
    },
    close() {
      if (closed) return;
      closed = true;
      discardMessages = true;
      try {
        channel.close();
      } catch {
        // Closing a channel that is already going away is not an error here.
      }
      deliverClose();
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

function validSize(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return new TextEncoder().encode(data);
  return undefined;
}

function asError(value: unknown, fallback: string): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string' || typeof value === 'number')
    return new Error(`${fallback}: ${value}`);
  return new Error(fallback);
}
