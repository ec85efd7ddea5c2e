import type { Transport } from '../transport.js';
import { asError, createChannelTransport } from './channel-core.js';

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
  const core = createChannelTransport(
    {
      maxMessageSize: validSize(options.maxMessageSize) ?? DEFAULT_MAX_MESSAGE_SIZE,
      bufferedAmount: () => channel.bufferedAmount,
      setBufferedAmountLowThreshold: (bytes) => {
        channel.bufferedAmountLowThreshold = bytes;
      },
      isOpen: () => channel.readyState === 'open',
      send: (message) => {
        if (channel.readyState !== 'open') throw new Error('DataChannel is not open');
        channel.send(message as Uint8Array<ArrayBuffer>);
      },
      close: () => channel.close(),
      // not declared copiesOnSend: browsers copy in send() as far as we know, but no
      // specification says so, so each frame keeps a buffer of its own
    },
    channel.readyState === 'closed' || channel.readyState === 'closing',
  );
  /** The error event comes before the close event; the close reports it. */
  let pendingError: Error | undefined;

  const onMessageEvent = (event: MessageEvent<unknown>): void => {
    const message = toBytes(event.data);
    if (message === undefined) {
      core.fail(new Error('DataChannel delivered a message that is neither binary nor text'));
      return;
    }
    core.message(message);
  };
  const onLowEvent = (): void => core.bufferedAmountLow();
  const onErrorEvent = (event: Event): void => {
    const detail = (event as Partial<RTCErrorEvent>).error;
    pendingError = asError(detail, 'DataChannel error');
  };
  const onCloseEvent = (): void => {
    channel.removeEventListener('message', onMessageEvent);
    channel.removeEventListener('bufferedamountlow', onLowEvent);
    channel.removeEventListener('error', onErrorEvent);
    channel.removeEventListener('close', onCloseEvent);
    core.channelClosed(pendingError);
  };

  channel.addEventListener('message', onMessageEvent);
  channel.addEventListener('bufferedamountlow', onLowEvent);
  channel.addEventListener('error', onErrorEvent);
  channel.addEventListener('close', onCloseEvent);
  return core.transport;
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
