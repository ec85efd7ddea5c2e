import type { DataChannel } from 'node-datachannel';
import type { Transport } from '../transport.js';
import { asError, createChannelTransport } from '../transports/channel-core.js';

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
  const core = createChannelTransport(
    {
      maxMessageSize: safe(() => channel.maxMessageSize(), 0) || FALLBACK_MAX_MESSAGE_SIZE,
      bufferedAmount: () => safe(() => channel.bufferedAmount(), 0),
      setBufferedAmountLowThreshold: (bytes) => channel.setBufferedAmountLowThreshold(bytes),
      isOpen: () => safe(() => channel.isOpen(), false),
      // Copies into libdatachannel's queue; `false` only means "queued, not yet sent".
      send: (message) => void channel.sendMessageBinary(message),
      // sendMessageBinary hands libdatachannel a pointer it copies into a new message
      // (rtc::Channel::send(const byte *, size_t)) before returning
      copiesOnSend: true,
      close: () => channel.close(),
    },
    !safe(() => channel.isOpen(), false),
  );
  const safely = (fn: () => void): void => {
    try {
      fn();
    } catch {
      // Nothing may escape into node-datachannel (the core already guards listeners).
    }
  };
  channel.onMessage((data) => safely(() => core.message(toBytes(data))));
  channel.onBufferedAmountLow(() => safely(() => core.bufferedAmountLow()));
  channel.onError((reason) =>
    safely(() => core.channelClosed(asError(reason, 'DataChannel error'))),
  );
  channel.onClosed(() => safely(() => core.channelClosed()));
  return core.transport;
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
