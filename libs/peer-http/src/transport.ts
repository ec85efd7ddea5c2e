/**
 * The one seam between peer-http and whatever carries its messages.
 *
 * A transport is a reliable, ordered, message-oriented channel that is already open: a
 * browser `RTCDataChannel`, a node-datachannel `DataChannel`, or the in-memory pair used
 * by tests. Message boundaries are preserved. Adapters live in `transports/` (browser-safe)
 * and `node/` (node-datachannel).
 *
 * Contract for adapters:
 * - `onMessage` has one listener at a time (setting it replaces the previous one).
 *   Messages that arrive while no listener is set are queued and delivered, in order, as
 *   soon as one is set. This lets the channel handshake (libs/crypto) consume the first
 *   messages and then hand the same transport to the peer-http muxer with nothing lost.
 * - `onBufferedAmountLow` fires when `bufferedAmount` falls to or below
 *   `bufferedAmountLowThreshold`.
 * - `onClose` fires exactly once, when the channel closes for any reason (local `close()`,
 *   remote close, or failure: then with an Error).
 * - No callback may throw into the underlying channel: adapters catch and report.
 */
export interface Transport {
  /** Largest message `send` accepts, in bytes (SCTP max-message-size, e.g. 262144). */
  readonly maxMessageSize: number;
  /** Bytes queued locally and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Low-water mark for `onBufferedAmountLow`. */
  bufferedAmountLowThreshold: number;
  /** Whether the channel is open (`send` is only valid while it is). */
  readonly isOpen: boolean;
  /** Sends one whole message. Throws if the channel is not open or the message too large. */
  send(message: Uint8Array): void;
  /**
   * `true` if `send` has copied the message by the time it returns, so the caller may
   * overwrite the buffer at once (the muxer then reuses one buffer for bulk DATA frames).
   * Absent or `false`: the transport may keep the message, and every frame gets its own.
   */
  readonly copiesOnSend?: boolean;
  /** Closes the channel. Idempotent. */
  close(): void;
  onMessage(listener: ((message: Uint8Array) => void) | undefined): void;
  onBufferedAmountLow(listener: (() => void) | undefined): void;
  onClose(listener: ((error?: Error) => void) | undefined): void;
}
