// @peerfetch/peer-http: HTTP over a DataChannel (browser-safe entry point). See PROTOCOL.md.
export type { Transport } from './transport.js';
export * from './frame.js';
export * from './errors.js';
export * from './config.js';
export { encode, encodeHeaderBlock } from './encode.js';
export { Decoder, decodeAll, type DecoderOptions } from './decode.js';
export { Stream, networkError, type StreamState } from './stream.js';
export { Muxer, type IncomingStream } from './muxer.js';
export {
  createPeerHttp,
  createPeerFetch,
  servePeerHttp,
  HOP_BY_HOP,
  type PeerBody,
  type PeerBodyReader,
  type PeerCoreBody,
  type PeerCoreHandler,
  type PeerFetchInit,
  type PeerHttpHandler,
  type PeerHttpOptions,
  type PeerHttpSession,
  type PeerReply,
  type PeerRequest,
  type PeerRequestInit,
  type PeerResponse,
} from './session.js';
export {
  createMemoryTransportPair,
  type MemoryTransport,
  type MemoryTransportOptions,
} from './transports/memory.js';
export * from './transports/rtc-data-channel.js';
